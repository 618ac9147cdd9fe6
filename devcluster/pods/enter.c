/*
 * crime-enter: the last steps of a container start, as a container runtime (runc) takes them, for
 * the pod runner's containers that run from an image (devcluster/pods/container.ts prepares the
 * root filesystem and mounts, then execs this). It is C because these steps must be taken by one
 * process that then execs the container's command from inside the new root: no host tool is left
 * to run once the root is pivoted, and neither a shell nor Node.js can pivot_root or set
 * capabilities.
 *
 *   crime-enter (--root DIR | --join PID) [--cwd DIR] --uid N --gid N [--groups G,G...]
 *               --caps MASK [--no-new-privs] [--error-file FILE] -- COMMAND [ARG...]
 *
 *   --root   pivot_root into DIR (a mount point) and detach the old root
 *   --join   enter the mount and network namespaces of the running process PID (exec probes)
 *   --caps   capabilities kept (bit N = capability N): the bounding set, and for UID 0 the
 *            permitted and effective sets; other UIDs hold none (as Docker and containerd do)
 *   --error-file  where a failure to start is described (opened before the pivot); exit 128
 *
 * The command is looked up in the PATH of this process's environment, the container's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int error_fd = -1;

static void fail(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "crime-enter: %s\n", msg);
  if (error_fd >= 0) {
    ssize_t ignored = write(error_fd, msg, strlen(msg));
    (void)ignored;
  }
  exit(128);
}

static unsigned long long number(const char *flag, const char *text) {
  char *end = NULL;
  errno = 0;
  unsigned long long n = strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') fail("%s: not a number: %s", flag, text);
  return n;
}

static void enter_namespace(pid_t pid, const char *kind, int type) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, kind);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, type) != 0) fail("enter the %s namespace of process %d: %s", kind, (int)pid, strerror(errno));
  close(fd);
}

int main(int argc, char **argv) {
  const char *root = NULL, *cwd = "/", *groups = "", *error_file = NULL;
  pid_t join = 0;
  long long uid = -1, gid = -1;
  unsigned long long caps = 0;
  int caps_given = 0, no_new_privs = 0, i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) { i++; break; }
    if (strcmp(a, "--no-new-privs") == 0) { no_new_privs = 1; continue; }
    if (i + 1 >= argc) fail("%s needs a value", a);
    const char *v = argv[++i];
    if (strcmp(a, "--root") == 0) root = v;
    else if (strcmp(a, "--join") == 0) join = (pid_t)number(a, v);
    else if (strcmp(a, "--cwd") == 0) cwd = v;
    else if (strcmp(a, "--uid") == 0) uid = (long long)number(a, v);
    else if (strcmp(a, "--gid") == 0) gid = (long long)number(a, v);
    else if (strcmp(a, "--groups") == 0) groups = v;
    else if (strcmp(a, "--caps") == 0) { caps = number(a, v); caps_given = 1; }
    else if (strcmp(a, "--error-file") == 0) error_file = v;
    else fail("unknown option %s", a);
  }
  if (error_file != NULL) error_fd = open(error_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (i >= argc) fail("no command");
  if ((root == NULL) == (join == 0)) fail("give one of --root and --join");
  if (uid < 0 || gid < 0 || !caps_given) fail("--uid, --gid and --caps are required");

  if (root != NULL) {
    // runc's way: pivot_root(".", ".") stacks the old root on the new one; detaching it leaves
    // only the new root in this mount namespace.
    if (chdir(root) != 0) fail("chdir %s: %s", root, strerror(errno));
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail("pivot_root %s: %s", root, strerror(errno));
    if (umount2(".", MNT_DETACH) != 0) fail("detach the old root: %s", strerror(errno));
  } else {
    enter_namespace(join, "net", CLONE_NEWNET);
    enter_namespace(join, "mnt", CLONE_NEWNS);
  }
  if (chdir(cwd) != 0) fail("chdir to the working directory %s: %s", cwd, strerror(errno));

  // Capabilities outside the kept set leave the bounding set (while CAP_SETPCAP is still held).
  for (int cap = 0; cap < 64; cap++) {
    if (caps & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail("drop capability %d: %s", cap, strerror(errno));
  }

  gid_t list[64];
  size_t n = 0;
  for (const char *p = groups; *p != '\0';) {
    char *end = NULL;
    unsigned long g = strtoul(p, &end, 10);
    if (end == p || n == sizeof list / sizeof list[0]) fail("--groups: bad list %s", groups);
    list[n++] = (gid_t)g;
    p = *end == ',' ? end + 1 : end;
  }
  if (setgroups(n, list) != 0) fail("setgroups: %s", strerror(errno));
  if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) fail("setgid %lld: %s", gid, strerror(errno));
  // A non-zero UID loses its permitted and effective capabilities here (no keep-caps).
  if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) fail("setuid %lld: %s", uid, strerror(errno));
  if (uid == 0) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].permitted = data[0].effective = (uint32_t)caps;
    data[1].permitted = data[1].effective = (uint32_t)(caps >> 32);
    if (syscall(SYS_capset, &header, data) != 0) fail("capset: %s", strerror(errno));
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("clear ambient capabilities: %s", strerror(errno));
  if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs: %s", strerror(errno));

  execvp(argv[i], &argv[i]);
  if (errno == ENOENT && strchr(argv[i], '/') == NULL) fail("exec: \"%s\": executable file not found in $PATH", argv[i]);
  fail("exec: \"%s\": %s", argv[i], strerror(errno));
}
