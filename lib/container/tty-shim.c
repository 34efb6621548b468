// The process kubelet's stand-in for the console half of containerd's shim: it runs a command whose
// container init makes a terminal (container-init.c, setup_console), receives the pty master over a
// console socket as containerd-shim does from runc, and relays it — its own stdin to the terminal, the
// terminal to its own stdout — while it applies window sizes read from a resize fd (TIOCSWINSZ, so
// the foreground process gets SIGWINCH). It exits as the command did (same code, same signal).
//
// usage: tty-shim <console-fd> <resize-fd|-> <command> [args...]
//   console-fd  the fd number on which the command finds its end of the console socket
//   resize-fd   an fd of this shim with lines "<columns> <rows>\n" ("-": none)
//
// Bytes typed go to the line discipline unchanged, so Ctrl-C is the terminal's: SIGINT to its
// foreground process group, as on a real node. Until the master arrives (or if it never does, when the
// init fails first), the command's own stdout and stderr are this shim's: bwrap's, nsenter's and the
// init's errors come out unchanged. After the command exits the terminal is read until every holder of
// its slave is gone (EIO), as containerd drains an exec's io: a background process that keeps the
// terminal open keeps the session open.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what) {
  dprintf(2, "tty-shim: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

// The master fd sent with SCM_RIGHTS; -1 when the socket closed without one.
static int receive_master(int sock) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  return -1;
}

static struct winsize size;
static int have_size = 0;

static void apply_size(int master) {
  if (master >= 0 && have_size) ioctl(master, TIOCSWINSZ, &size);
}

// Complete "<columns> <rows>" lines from the resize fd; the latest size wins.
static void read_sizes(int fd, char *line, size_t *len, size_t cap, int master, int *open_fd) {
  ssize_t n = read(fd, line + *len, cap - *len);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {
    *open_fd = 0;
    return;
  }
  *len += (size_t)n;
  char *nl;
  while ((nl = memchr(line, '\n', *len))) {
    *nl = 0;
    unsigned cols, rows;
    if (sscanf(line, "%u %u", &cols, &rows) == 2 && cols > 0 && rows > 0 && cols <= 65535 &&
        rows <= 65535) {
      size = (struct winsize){.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
      have_size = 1;
      apply_size(master);
    }
    size_t used = (size_t)(nl - line) + 1;
    memmove(line, nl + 1, *len - used);
    *len -= used;
  }
  if (*len == cap) *len = 0; // a line that long is no size: dropped
}

int main(int argc, char **argv) {
  if (argc < 4) {
    dprintf(2, "usage: tty-shim <console-fd> <resize-fd|-> <command> [args...]\n");
    return 125;
  }
  int console_fd = atoi(argv[1]);
  int resize_fd = strcmp(argv[2], "-") == 0 ? -1 : atoi(argv[2]);
  char **command = argv + 3;

  // Tied to the kubelet: if it dies, the terminal hangs up and the session ends with it (and if it
  // died before the signal was armed, the parent is another process already).
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) return 125;
  signal(SIGPIPE, SIG_IGN);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  if (resize_fd >= 0) fcntl(resize_fd, F_SETFD, FD_CLOEXEC);
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);
  int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) die("signalfd");

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (sv[1] == console_fd) fcntl(console_fd, F_SETFD, 0);
    else if (dup2(sv[1], console_fd) < 0) die("dup2");
    execvp(command[0], command);
    dprintf(2, "tty-shim: exec %s: %s\n", command[0], strerror(errno));
    _exit(127);
  }
  close(sv[1]);
  int sock = sv[0];

  int master = -1;
  int stdin_open = 1, resize_open = resize_fd >= 0, master_open = 0;
  char pending[8192]; // typed bytes the terminal has not taken yet
  size_t pending_len = 0;
  char line[256];
  size_t line_len = 0;
  int exited = 0, status = 0;

  for (;;) {
    struct pollfd fds[5];
    int n = 0, i_sig = -1, i_sock = -1, i_in = -1, i_master = -1, i_resize = -1;
    fds[i_sig = n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    if (sock >= 0) fds[i_sock = n++] = (struct pollfd){.fd = sock, .events = POLLIN};
    if (master_open) {
      short ev = POLLIN | (pending_len > 0 ? POLLOUT : 0);
      fds[i_master = n++] = (struct pollfd){.fd = master, .events = ev};
      if (stdin_open && pending_len == 0 && !exited)
        fds[i_in = n++] = (struct pollfd){.fd = 0, .events = POLLIN};
    }
    if (resize_open) fds[i_resize = n++] = (struct pollfd){.fd = resize_fd, .events = POLLIN};

    if (exited && sock < 0 && !master_open) break;
    if (poll(fds, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }

    if (fds[i_sig].revents) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) > 0) {
      }
      if (!exited && waitpid(child, &status, WNOHANG) == child) exited = 1;
    }
    if (i_sock >= 0 && fds[i_sock].revents) {
      master = receive_master(sock);
      close(sock);
      sock = -1;
      if (master >= 0) {
        fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
        master_open = 1;
        apply_size(master);
      }
    }
    if (i_resize >= 0 && fds[i_resize].revents)
      read_sizes(resize_fd, line, &line_len, sizeof line, master, &resize_open);
    if (i_in >= 0 && fds[i_in].revents) {
      ssize_t r = read(0, pending, sizeof pending);
      if (r > 0) pending_len = (size_t)r;
      else if (r == 0 || errno != EINTR) stdin_open = 0; // EOF: the terminal simply gets no more input
    }
    if (i_master >= 0 && fds[i_master].revents & POLLOUT && pending_len > 0) {
      ssize_t w = write(master, pending, pending_len);
      if (w > 0) {
        memmove(pending, pending + w, pending_len - (size_t)w);
        pending_len -= (size_t)w;
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        pending_len = 0;
      }
    }
    if (i_master >= 0 && fds[i_master].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[16384];
      ssize_t r = read(master, buf, sizeof buf);
      if (r > 0) {
        if (write_all(1, buf, (size_t)r) != 0) stdin_open = 0; // nobody reads any more
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        master_open = 0; // EIO: every holder of the slave is gone
        if (exited) break;
      }
    }
  }
  if (!exited) waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    raise(WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
