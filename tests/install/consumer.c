/*
 * A program that uses IPCNet as an outside project would: only the
 * installed header and library.  Built by test_install.sh with pkg-config,
 * with find_package(ipcnet), and as C++ (the header's extern "C" guards).
 * Prints "ipcnet <version>" on success.
 */
#include <ipcnet.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    char want[32];
    const char *version = ipcn_version();
    const char *name = ipcn_status_str(203);

    snprintf(want, sizeof want, "%d.%d.%d", IPCN_VERSION_MAJOR, IPCN_VERSION_MINOR,
             IPCN_VERSION_PATCH);
    if (version == NULL || strcmp(version, want) != 0) {
        fprintf(stderr, "ipcn_version() is \"%s\", the header says \"%s\"\n",
                version ? version : "(null)", want);
        return 1;
    }
    if (ipcn_version_number() != IPCN_VERSION_NUMBER) {
        fprintf(stderr, "ipcn_version_number() is %d, the header says %d\n",
                ipcn_version_number(), IPCN_VERSION_NUMBER);
        return 1;
    }
    if (name == NULL || strcmp(name, "Not Found") != 0) {
        fprintf(stderr, "ipcn_status_str(203) is \"%s\", expected \"Not Found\"\n",
                name ? name : "(null)");
        return 1;
    }
    printf("ipcnet %s\n", version);
    return 0;
}
