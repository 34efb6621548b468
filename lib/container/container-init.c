// The process kubelet's stand-in for `runc init`: the last step between a finished sandbox and the
// container's process. bubblewrap has set up the namespaces and mounts and runs this (static, so it
// needs nothing from the container's root) as pid 1 through /proc/self/fd/<n>; it then does what runc
// does before exec, in runc's order and with runc's (Go's) error texts: fds past stdio closed on exec,
// umask 0022, working directory, bounding set, supplementary groups, gid, uid, capabilities, the
// executable looked up in the container's own PATH (Go's exec.LookPath), and exec. With a console
// socket (runc's --console-socket) it first makes the process a terminal: see setup_console. Built on
// first use by container-init.ts; see there for the argument and report protocol.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int report_fd = -1; // -1: errors go to stderr (exec into a running container)

// Go's syscall.Errno texts are glibc's with a lower-case first letter.
static const char *go_error(int err) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s", strerror(err));
  if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
  return buf;
}

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  char msg[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (report_fd >= 0) dprintf(report_fd, "error %s\n", msg);
  else dprintf(2, "%s\n", msg);
  _exit(127);
}

// strconv.Quote for the names that occur in practice: quotes and backslashes escaped.
static const char *quote(const char *s) {
  static char buf[4200];
  size_t n = 0;
  buf[n++] = '"';
  for (; *s && n < sizeof buf - 4; s++) {
    if (*s == '"' || *s == '\\') buf[n++] = '\\';
    buf[n++] = *s;
  }
  buf[n++] = '"';
  buf[n] = 0;
  return buf;
}

static int parse_list(const char *s, long *out, int max) {
  int n = 0;
  if (strcmp(s, "-") == 0) return 0;
  for (char *end; *s && n < max; s = *end ? end + 1 : end) {
    out[n++] = strtol(s, &end, 10);
    if (end == s) fail("container-init: bad list");
  }
  return n;
}

// Every fd from 3 on is closed at exec, as runc's CloseExecFrom(3): nothing of the kubelet's leaks in.
static void cloexec_from_3(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    for (int fd = 3; fd < 1024; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
    return;
  }
  for (struct dirent *e; (e = readdir(d));) {
    int fd = atoi(e->d_name);
    if (fd >= 3 && fd != dirfd(d)) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  closedir(d);
}

// Go's findExecutable: stat, not a directory, eaccess(X_OK) for the effective ids.
static int find_executable(const char *file, char *why, size_t whylen) {
  struct stat st;
  if (stat(file, &st) != 0) {
    snprintf(why, whylen, "stat %s: %s", file, go_error(errno));
    return -1;
  }
  if (S_ISDIR(st.st_mode)) {
    snprintf(why, whylen, "%s", go_error(EISDIR));
    return -1;
  }
  if (faccessat(AT_FDCWD, file, X_OK, AT_EACCESS) != 0) {
    snprintf(why, whylen, "%s", go_error(errno));
    return -1;
  }
  return 0;
}

// Go's exec.LookPath with the container's PATH.
static const char *look_path(const char *file) {
  static char found[4096];
  char why[4200];
  if (strchr(file, '/')) {
    if (find_executable(file, why, sizeof why) != 0) fail("exec: %s: %s", quote(file), why);
    return file;
  }
  const char *path = getenv("PATH");
  if (path && *path) {
    for (const char *p = path;; p++) {
      const char *colon = strchr(p, ':');
      size_t len = colon ? (size_t)(colon - p) : strlen(p);
      if (len == 0) snprintf(found, sizeof found, "%s", file); // "" is "." (filepath.Join(".", f) = f)
      else snprintf(found, sizeof found, "%.*s/%s", (int)len, p, file);
      if (find_executable(found, why, sizeof why) == 0) {
        if (found[0] != '/')
          fail("exec: %s: cannot run executable found relative to current directory", quote(file));
        return found;
      }
      if (!colon) break;
      p = colon;
    }
  }
  fail("exec: %s: executable file not found in $PATH", quote(file));
}

// A terminal, as runc makes one for `terminal: true`: the pty is opened here, inside the container's
// mount namespace, so the slave is /dev/pts/N of the container's own devpts (what `tty` prints in
// it); the master goes out over the console socket (SCM_RIGHTS) to the tty shim, which relays it; the
// slave becomes the controlling terminal of a new session and the process's stdin, stdout and stderr.
// As root, before the user is set (runc's order), so the slave belongs to root as under runc.
static void setup_console(int sock) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("unable to setup console: open /dev/ptmx: %s", go_error(errno));
  if (unlockpt(master) != 0) fail("unable to setup console: unlockpt: %s", go_error(errno));
  char slave_path[64];
  if (ptsname_r(master, slave_path, sizeof slave_path) != 0)
    fail("unable to setup console: ptsname: %s", go_error(errno));
  // Opened before the master leaves, so the shim never sees a terminal without a slave (a hang-up).
  int slave = open(slave_path, O_RDWR | O_NOCTTY);
  if (slave < 0) fail("unable to setup console: open %s: %s", slave_path, go_error(errno));

  char byte = 0;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) fail("unable to setup console: send: %s", go_error(errno));
  close(master);
  close(sock);

  // bwrap --new-session already made pid 1 a session leader; an exec (a child of nsenter) is not one.
  if (getsid(0) != getpid() && setsid() < 0) fail("unable to setup console: setsid: %s", go_error(errno));
  if (ioctl(slave, TIOCSCTTY, 0) != 0) fail("unable to setup console: TIOCSCTTY: %s", go_error(errno));
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0) fail("unable to setup console: dup2: %s", go_error(errno));
  if (slave > 2) close(slave);
}

static int cap_last(void) {
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  int last = CAP_LAST_CAP;
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
    fclose(f);
  }
  return last;
}

// argv: <report-fd|-> <console-fd|-> <uid> <gid> <groups|-> <caps|all|-> <cwd> <file> [args...]
int main(int argc, char **argv) {
  if (argc < 9) {
    dprintf(2, "usage: container-init report console uid gid groups caps cwd file [args...]\n");
    return 127;
  }
  if (strcmp(argv[1], "-") != 0) report_fd = atoi(argv[1]);
  int console_fd = strcmp(argv[2], "-") != 0 ? atoi(argv[2]) : -1;
  uid_t uid = (uid_t)strtoul(argv[3], NULL, 10);
  gid_t gid = (gid_t)strtoul(argv[4], NULL, 10);
  long groups_in[256];
  int ngroups = parse_list(argv[5], groups_in, 256);
  gid_t groups[256];
  for (int i = 0; i < ngroups; i++) groups[i] = (gid_t)groups_in[i];
  int all_caps = strcmp(argv[6], "all") == 0;
  long caps[64];
  int ncaps = all_caps ? 0 : parse_list(argv[6], caps, 64);
  const char *cwd = argv[7];
  char **args = argv + 8;

  cloexec_from_3();
  umask(022);
  if (console_fd >= 0) setup_console(console_fd);

  // As runc: chdir first as root; a directory only the container's user may enter is retried after.
  int chdir_later = 0;
  if (chdir(cwd) != 0) {
    if (errno == EACCES || errno == EPERM) chdir_later = 1;
    else fail("chdir to cwd (%s) set in config.json failed: %s", quote(cwd), go_error(errno));
  }

  int pdeathsig = 0;
  prctl(PR_GET_PDEATHSIG, &pdeathsig);

  if (!all_caps) {
    for (int c = 0; c <= cap_last(); c++) {
      int keep = 0;
      for (int i = 0; i < ncaps; i++) keep |= caps[i] == c;
      if (!keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
        fail("unable to apply bounding set: %s", go_error(errno));
    }
  }

  if (setgroups((size_t)ngroups, ngroups ? groups : NULL) != 0)
    fail("unable to setup user: setgroups: %s", go_error(errno));
  if (setresgid(gid, gid, gid) != 0) fail("unable to setup user: setresgid: %s", go_error(errno));
  if (setresuid(uid, uid, uid) != 0) fail("unable to setup user: setresuid: %s", go_error(errno));
  // A change of credentials clears the parent-death signal: bwrap's --die-with-parent is restored.
  if (pdeathsig) prctl(PR_SET_PDEATHSIG, pdeathsig);

  if (chdir_later && chdir(cwd) != 0)
    fail("chdir to cwd (%s) set in config.json failed: %s", quote(cwd), go_error(errno));

  // Capabilities: nothing inheritable or ambient; a root process keeps exactly the bounding set (what
  // runc gives it), a non-root one has none left after setresuid and gets none at exec.
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &head, data) == 0) {
    if (!all_caps && uid == 0) {
      unsigned int want[2] = {0, 0};
      for (int i = 0; i < ncaps; i++)
        if (caps[i] >= 0 && caps[i] < 64) want[caps[i] / 32] |= 1u << (caps[i] % 32);
      for (int i = 0; i < 2; i++) {
        data[i].permitted &= want[i];
        data[i].effective &= want[i];
      }
    }
    data[0].inheritable = data[1].inheritable = 0;
    if (syscall(SYS_capset, &head, data) != 0) fail("unable to apply caps: %s", go_error(errno));
  }

  const char *name = look_path(args[0]);

  // Started: what runc's exec fifo tells the runtime. The report fd is closed at exec.
  if (report_fd >= 0) dprintf(report_fd, "started\n");
  execve(name, args, environ);
  // As runc, after the container counts as started: the error on stderr (its log), exit 255.
  dprintf(2, "exec %s: %s\n", name, go_error(errno));
  _exit(255);
}
