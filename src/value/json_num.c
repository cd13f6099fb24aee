/* SPDX-License-Identifier: MIT */
/*
 * json_num.c — decimal text <-> double for JSON, whatever the program's
 * locale: strtod() and printf() run under the "C" locale of this thread
 * only (uselocale()), so a program that set LC_NUMERIC to one with a
 * decimal comma still reads and writes "0.5".  Doubles are written with
 * the fewest digits that read back as the same double (as Python's repr()
 * and JavaScript do), without touching the floating-point environment.
 */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "value/value.h"

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    /* Kept for the life of the process.  Should it fail (out of memory),
     * the program's own locale is used: "C" unless it set one. */
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t enter_c(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c(locale_t old)
{
    if (old)
        uselocale(old);
}

double ipcn__json_strtod(const char *s, size_t n, int *ok)
{
    char small[64];
    char *t = n < sizeof small ? small : ipcn__malloc(n + 1);
    *ok = t != NULL;
    if (!t)
        return 0;
    memcpy(t, s, n);
    t[n] = 0;
    locale_t old = enter_c();
    double d = strtod(t, NULL); /* overflow: +-HUGE_VAL, an infinity */
    leave_c(old);
    if (t != small)
        ipcn__free(t);
    return d;
}

/* p significant digits of d, d.ddde+X: digits in dig[0..p), *exp the
 * decimal exponent.  d finite, not 0. */
static void digits_of(double d, int p, char *dig, int *exp)
{
    char s[48];
    snprintf(s, sizeof s, "%.*e", p - 1, d < 0 ? -d : d);
    int k = 0;
    for (const char *c = s; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            dig[k++] = *c;
    *exp = atoi(strchr(s, 'e') + 1);
}

/* The text of -1^neg * 0.dig[0..p) * 10^(exp+1) in the style of Python's
 * repr(): positional for exponents -4..15, else d.ddde+XX; trailing zeros
 * dropped; ".0" on an integer so that it reads back as a float. */
static size_t format_digits(char *out, int neg, char *dig, int p, int exp)
{
    while (p > 1 && dig[p - 1] == '0')
        p--;
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out[k++] = '0';
            out[k++] = '.';
            for (int i = -1; i > exp; i--)
                out[k++] = '0';
            for (int i = 0; i < p; i++)
                out[k++] = dig[i];
        } else {
            for (int i = 0; i <= exp; i++)
                out[k++] = i < p ? dig[i] : '0';
            out[k++] = '.';
            if (p > exp + 1) {
                for (int i = exp + 1; i < p; i++)
                    out[k++] = dig[i];
            } else {
                out[k++] = '0';
            }
        }
    } else {
        out[k++] = dig[0];
        if (p > 1) {
            out[k++] = '.';
            for (int i = 1; i < p; i++)
                out[k++] = dig[i];
        }
        k += (size_t)snprintf(out + k, 16, "e%c%02d", exp < 0 ? '-' : '+',
                              exp < 0 ? -exp : exp);
    }
    out[k] = 0;
    return k;
}

/* Does text read back as d? */
static int reads_back(const char *text, double d)
{
    return strtod(text, NULL) == d;
}

/* dig[0..p) plus (dir 1) or minus (dir -1) one unit in the last place;
 * *exp follows a carry or a borrow out of the first digit. */
static void step_digits(char *dig, int p, int *exp, int dir)
{
    int i = p - 1;
    if (dir > 0) {
        while (i >= 0 && dig[i] == '9')
            dig[i--] = '0';
        if (i >= 0) {
            dig[i]++;
        } else { /* 999 + 1 = 1000: one more decade */
            dig[0] = '1';
            (*exp)++;
        }
    } else {
        while (i >= 0 && dig[i] == '0')
            dig[i--] = '9';
        dig[i]--; /* dig[0] >= '1': i >= 0 */
        if (dig[0] == '0') { /* 1000 - 1 = 0999: one less decade */
            memmove(dig, dig + 1, (size_t)p - 1);
            dig[p - 1] = '9';
            (*exp)--;
        }
    }
}

size_t ipcn__json_dtoa(double d, char *out)
{
    if (d != d || d - d != 0) { /* NaN, infinities: JSON has none */
        memcpy(out, "null", 5);
        return 4;
    }
    int neg = (d < 0) || (d == 0 && 1 / d < 0);
    if (d == 0) {
        size_t k = 0;
        if (neg)
            out[k++] = '-';
        memcpy(out + k, "0.0", 4);
        return k + 3;
    }
    locale_t old = enter_c();
    char dig[24];
    int exp = 0;
    size_t k = 0;
    /* A normal double's shortest text, when it has at most 15 digits, is
     * its nearest 15-digit decimal with the zeros dropped (decimals of 15
     * digits are further apart than doubles).  At 16 and 17 the nearest
     * may miss where its neighbour hits (2^-24: ...062e-08 does not,
     * ...063e-08 does); 17 always hits.  Subnormals are further apart
     * than their decimals: every length is tried, from 1. */
    double mag = d < 0 ? -d : d;
    for (int p = mag < 2.2250738585072014e-308 ? 1 : 15; p <= 17; p++) {
        digits_of(d, p, dig, &exp);
        char try_[24];
        int e2;
        static const int dirs[3] = {0, 1, -1};
        for (int t = 0; t < 3; t++) {
            memcpy(try_, dig, (size_t)p);
            e2 = exp;
            if (dirs[t])
                step_digits(try_, p, &e2, dirs[t]);
            char work[24];
            memcpy(work, try_, (size_t)p);
            k = format_digits(out, neg, work, p, e2);
            if (reads_back(out, d) || p == 17) { /* 17: nearest, exact */
                leave_c(old);
                return k;
            }
        }
    }
    leave_c(old);
    return k; /* not reached: 17 digits always read back */
}
