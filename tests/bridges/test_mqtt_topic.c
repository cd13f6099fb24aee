/* SPDX-License-Identifier: MIT */
/*
 * test_mqtt_topic.c — the MQTT bridge's topic-to-path mapping and status
 * parser (bridges/mqtt/topic.c): the cases of docs/bridges.md "Topic
 * mapping", refusals, and a replay of the fuzz harness's seeds and saved
 * crashes (tests/fuzz/{corpus,crashes}/mqtt_topic), each seed also with
 * every single bit flipped.  Needs no broker and no libmosquitto.
 *
 *   test_mqtt_topic [tests/fuzz]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLVMFuzzerTestOneInput fuzz_mqtt_topic_one
#include "../fuzz/fuzz_mqtt_topic.c"
#undef LLVMFuzzerTestOneInput

static int failed, checks;

static void map(const char *spec, const char *topic, const char *want)
{
    char out[300];
    bool ok = br_map_path("ipcnet/", spec, topic, out, sizeof out);
    checks++;
    if (want ? !ok || strcmp(out, want) : ok) {
        failed++;
        printf("not ok - --import %s, topic %s: got %s, want %s\n", spec, topic,
               ok ? out : "(refused)", want ? want : "(refused)");
    }
}

static void status(const char *v, int want)
{
    checks++;
    int got = br_parse_status(v, 100);
    if (got != want) {
        failed++;
        printf("not ok - status '%s': %d, want %d\n", v, got, want);
    }
}

static long replay(const char *dir, bool flips)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t buf[4096];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        fuzz_mqtt_topic_one(buf, len);
        for (size_t i = 0; flips && i < len * 8; i++) {
            buf[i / 8] ^= (uint8_t)(1u << (i % 8));
            fuzz_mqtt_topic_one(buf, len);
            buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    map("cmd/drive", "cmd/drive", "cmd/drive");                   /* no PATH: the topic */
    map("ipcnet/loop/#", "ipcnet/loop/x", "loop/x");              /* --prefix stripped */
    map("a/b=x/y", "a/b", "x/y");                                 /* exact: PATH */
    map("cmd/#=robot/cmd", "cmd/drive/left", "robot/cmd/drive/left");
    map("cmd/+/go=r", "cmd/a/go", "r/a/go");
    map("cmd/#=robot/cmd", "cmd/", "robot/cmd");                  /* trailing '/' tidied */
    map("#", "a//b", NULL);                                       /* empty segment */
    map("#", "a/*/b", NULL);                                      /* '*' segment */
    map("#", "/a", NULL);                                         /* leading '/' */
    map("#", "a/\x01", NULL);                                     /* control character */
    map("a=", "a", NULL);                                         /* empty PATH */
    char longt[400];
    memset(longt, 'a', sizeof longt - 1);
    longt[sizeof longt - 1] = 0;
    map("#", longt, NULL);                                        /* over 255 bytes */
    status("100", 100);
    status("203", 203);
    status("1000", 1000);
    status("65535", 65535);
    status("65536", 100);
    status("99", 100);
    status("-100", 100);
    status("100x", 100);
    status("", 100);
    status("000000100", 100);

    const char *fuzz = argc > 1 ? argv[1] : NULL;
    char dir[4096];
    if (!fuzz) {
        /* this file's directory's sibling: tests/fuzz */
        snprintf(dir, sizeof dir, "%s", __FILE__);
        char *s = strrchr(dir, '/');
        if (s)
            *s = 0;
        strncat(dir, "/../fuzz", sizeof dir - strlen(dir) - 1);
        fuzz = dir;
    }
    char c[4200];
    snprintf(c, sizeof c, "%s/corpus/mqtt_topic", fuzz);
    long n = replay(c, true);
    checks++;
    if (n <= 0) {
        failed++;
        printf("not ok - no seeds in %s\n", c);
    }
    snprintf(c, sizeof c, "%s/crashes/mqtt_topic", fuzz);
    replay(c, false);
    printf("%s - %d checks, %ld seeds replayed with bit flips\n", failed ? "not ok" : "ok",
           checks, n);
    return failed ? 1 : 0;
}
