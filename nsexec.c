// nsexec.c: nsbox's constructor, run by glibc before the Go runtime starts.
//
// A plain run pays little for it: without the gate variable the
// constructor only narrows the CPUs the Go runtime sees (see narrow_cpus)
// and returns. With the gate set (by nsexec.Run or Start in Go, which
// then re-execute this binary), the process is still single-threaded,
// so it may unshare or join any namespace. It reads the plan from the file
// descriptor the gate names, walks its steps and execs the target; the Go
// runtime never starts in this image.
//
// The plan format and the meaning of every step are documented in
// nsexec/plan.go; the step numbers below must match it. Every message a
// step can print comes with the plan, in the wording of the tool nsbox
// stands in for; this file only adds ": strerror(errno)" the way err(3)
// does.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "nsexec_errno.h"

#define GATE "_NSBOX_PLAN"
#define PLAN_VERSION 1
#define SYNC_BYTE 0x06
#define MAX_SLOTS 8

enum {
	OP_SPAWN = 1,
	OP_RELEASE = 2,
	OP_UNSHARE = 3,
	OP_WRITE = 4,
	OP_MOUNT = 5,
	OP_CHROOT = 6,
	OP_CHDIR = 7,
	OP_CHECKDIR = 8,
	OP_SETGROUPS = 9,
	OP_SETGID = 10,
	OP_SETUID = 11,
	OP_FORK = 12,
	OP_PARENTDEATH = 13,
	OP_AMBIENTCAPS = 14,
	OP_ENVIRON = 15,
	OP_EXEC = 16,
	OP_ENTER = 17,
	OP_OPEN = 18,
	OP_FCHDIR = 19,
	OP_CLOSE = 20,
	OP_WRITEPID = 21,
	OP_PIVOTROOT = 22,
	OP_UMOUNT = 23,
	OP_MKDIR = 24,
	OP_MKNOD = 25,
	OP_SYMLINK = 26,
	OP_SETHOSTNAME = 27,
	OP_ORELSE = 28,
	OP_PERSONALITY = 29,
	OP_DROPBOUNDING = 30,
	OP_PRCTL = 31,
	OP_LOGIN = 32,
	OP_QUIET = 33,
	OP_NAME = 34,
	OP_LOG = 35,
	OP_CPUS = 36,
	OP_END = 37,
};

enum { GROUPS_MUST = 0, GROUPS_TRY = 1, GROUPS_IF_TRIED = 2 };

#define NO_FD (-1)
#define MAX_REGS 8

enum { WRITE_IGNORE_ENOENT = 1 };
enum { FORK_UNSHARE = 0, FORK_NSENTER = 1, FORK_LXC = 2, FORK_INIT = 3 };
enum { EXEC_SEARCH = 1, EXEC_TRY = 2, EXEC_LXC_CODES = 4 };

struct op {
	int code;
	int nint, nstr;
	int64_t *ints;
	char **strs;
};

static const char *prog = "nsbox";
static int quiet; // OP_QUIET: failures are told by exit status alone
static int log_fd = -1; // OP_LOG: failures go to a log file too
static const char *log_prefix = "";

// A helper waits for its go-ahead on a pipe rather than an eventfd: if we
// die before giving it, the helper reads EOF and goes away instead of
// waiting forever.
static struct slot {
	pid_t pid;
	int go; // write end of the go-ahead pipe, or -1
} slots[MAX_SLOTS];

static int parent_pidfd = -1;
static int regs[MAX_REGS];
static int setgroups_failed;
static int last_ignored; // the step before failed with an errno it ignores
static volatile pid_t forward_pid;

// errtext is glibc's strerror(), whichever libc we are linked with.
static const char *errtext(int e, char *buf, size_t len)
{
	if (e >= 0 && e < (int)(sizeof(errno_text) / sizeof(errno_text[0])) && errno_text[e])
		return errno_text[e];
	snprintf(buf, len, "Unknown error %d", e);
	return buf;
}

// with_error writes line to buf with the error text in place of its \x01
// mark, as in LXC's "NAME: file: func: line Error text - what failed";
// without an error text the mark goes, with the " - " after it. It returns
// the length written, as snprintf does.
static int with_error(char *buf, size_t len, const char *line, const char *etext)
{
	const char *mark = strchr(line, '\x01');

	if (!mark)
		return snprintf(buf, len, "%s", line);
	if (etext)
		return snprintf(buf, len, "%.*s%s%s", (int)(mark - line), line, etext, mark + 1);
	return snprintf(buf, len, "%.*s%s", (int)(mark - line), line,
			strncmp(mark + 1, " - ", 3) == 0 ? mark + 4 : mark + 1);
}

// put writes buf (n bytes, room for a newline kept) and a newline to fd in
// one write.
static void put(int fd, char *buf, size_t size, int n)
{
	if (n < 0)
		return;
	if (n > (int)size - 2)
		n = size - 2;
	buf[n++] = '\n';
	if (write(fd, buf, n) < 0) {
		/* nothing left to tell */
	}
}

// logline appends a failure to the log file of OP_LOG in LXC's layout:
// "PREFIX YYYYmmddHHMMSS.mmm ERROR    LINE".
static void logline(const char *line, const char *etext)
{
	char buf[4096], stamp[32];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	n = snprintf(buf, sizeof(buf), "%s%s.%03ld ERROR    ", log_prefix, stamp, ts.tv_nsec / 1000000);
	if (n > 0 && n < (int)sizeof(buf))
		n += with_error(buf + n, sizeof(buf) - n, line, etext);
	put(log_fd, buf, sizeof(buf), n);
}

// errline prints "prog: line" in one write, as err(3)/errx(3) do: the error
// text where the line marks it, else, when append is set, after ": " at
// the end.
static void errline(const char *line, const char *etext, int append)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s: ", prog);

	n += with_error(buf + n, sizeof(buf) - n, line, etext);
	if (append && etext && !strchr(line, '\x01') && n < (int)sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, ": %s", etext);
	put(STDERR_FILENO, buf, sizeof(buf), n);
}

// report tells of a failure. The message may hold several lines, each
// told as one (the first with the error text), and, after a \x02, the
// lines for the log file of OP_LOG.
static void report(int with_errno, const char *fmt, ...)
{
	char ebuf[32], msg[3072], *line, *next, *tail;
	const char *etext;
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	etext = with_errno ? errtext(saved, ebuf, sizeof(ebuf)) : NULL;
	tail = strchr(msg, '\x02');
	if (tail)
		*tail++ = '\0';
	for (line = tail; line && log_fd >= 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		logline(line, etext);
	}
	if (quiet)
		return;
	for (line = msg; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		errline(line, etext, line == msg);
	}
}

#define die(...) do { report(1, __VA_ARGS__); _exit(1); } while (0)
#define diex(...) do { report(0, __VA_ARGS__); _exit(1); } while (0)

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

// ---- decoding ----------------------------------------------------------

struct reader {
	char *p, *end;
	int bad;
};

static void *take(struct reader *r, size_t n)
{
	void *v = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	return v;
}

static uint64_t take_uint(struct reader *r, size_t n)
{
	uint64_t v = 0;
	void *p = take(r, n);

	if (!p)
		return 0;
	switch (n) {
	case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
	case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
	case 8: memcpy(&v, p, 8); break;
	}
	return v;
}

static char *take_str(struct reader *r)
{
	uint32_t n = take_uint(r, 4);
	char *s;

	if (r->bad || (size_t)(r->end - r->p) < (size_t)n + 1) {
		r->bad = 1;
		return NULL;
	}
	s = take(r, (size_t)n + 1);
	if (s[n] != '\0') {
		r->bad = 1;
		return NULL;
	}
	return s;
}

// decode parses a plan in place; it returns the number of steps or -1.
static int decode(char *buf, size_t len, struct op **out)
{
	struct reader r = { buf, buf + len, 0 };
	uint32_t n, i;
	char *magic = take(&r, 4);
	struct op *ops;

	if (!magic || memcmp(magic, "NSBX", 4) != 0)
		return -1;
	if (take_uint(&r, 4) != PLAN_VERSION)
		return -1;
	n = take_uint(&r, 4);
	prog = take_str(&r);
	if (r.bad || !prog || n > len)
		return -1;
	ops = calloc(n ? n : 1, sizeof(*ops));
	if (!ops)
		return -1;
	for (i = 0; i < n && !r.bad; i++) {
		struct op *o = &ops[i];
		int j;

		o->code = take_uint(&r, 2);
		o->nint = take_uint(&r, 2);
		o->nstr = take_uint(&r, 2);
		if (take_uint(&r, 2) != 0)
			return -1;
		if (r.bad || o->code <= 0 || o->code >= OP_END)
			return -1;
		o->ints = calloc(o->nint + 1, sizeof(int64_t));
		o->strs = calloc(o->nstr + 1, sizeof(char *));
		if (!o->ints || !o->strs)
			return -1;
		for (j = 0; j < o->nint; j++)
			o->ints[j] = (int64_t)take_uint(&r, 8);
		for (j = 0; j < o->nstr; j++)
			o->strs[j] = take_str(&r);
	}
	if (r.bad || r.p != r.end)
		return -1;
	*out = ops;
	return n;
}

// ---- steps -------------------------------------------------------------

static int64_t I(const struct op *o, int i)
{
	return i < o->nint ? o->ints[i] : 0;
}

static const char *S(const struct op *o, int i)
{
	return i < o->nstr && o->strs[i] ? o->strs[i] : "";
}

// fdref resolves a step's descriptor operand: a descriptor inherited from
// the Go side (>= 0), none (-1), or register n (encoded as -2 - n).
static int fdref(int64_t v)
{
	if (v >= NO_FD)
		return v;
	if (-2 - v >= MAX_REGS)
		diex("corrupt exec plan");
	return regs[-2 - v];
}

static void close_ref(int64_t v)
{
	int fd = fdref(v);

	if (fd >= 0)
		close(fd);
	if (v < NO_FD)
		regs[-2 - v] = -1;
}

// nullable maps "" to NULL for mount(2)'s optional arguments.
static const char *nullable(const char *s)
{
	return *s ? s : NULL;
}

static void wait_helper(pid_t pid)
{
	int status;

	for (;;) {
		if (waitpid(pid, &status, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid failed");
		}
		break;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		_exit(WEXITSTATUS(status));
}

static void forward_signal(int sig)
{
	if (forward_pid > 0)
		kill(forward_pid, sig);
}

// forward_sent is an init's forward_signal: a signal the terminal sent
// (^C, ^\, a hangup, a resize) reached the whole foreground process
// group, the child too, so only those sent with kill(2) are passed on.
static void forward_sent(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_code != SI_KERNEL)
		forward_signal(sig);
}

// The named-container entry the parent of a Fork step keeps for its child
// (see applets/registry): its directory, held open from before the fork,
// since a pivot_root in the child's mount namespace (which may be the
// parent's too) moves the parent's root as well; and its name there.
static int registry_dir = -1, registry_proc = -1;
static const char *registry_name = "";

// registry_open opens the directory of the entry path, before the fork.
static void registry_open(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	snprintf(dir, sizeof(dir), "%.*s", slash ? (slash == path ? 1 : (int)(slash - path)) : 1,
		 slash ? path : ".");
	registry_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (registry_dir < 0)
		die("cannot register container: %s", dir);
	registry_proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (registry_proc < 0)
		die("cannot register container: /proc");
	registry_name = slash ? slash + 1 : path;
}

// unregister removes the entry, if there is one.
static void unregister(void)
{
	if (registry_dir >= 0)
		unlinkat(registry_dir, registry_name, 0);
}

// register_child records pid and its start time in the entry, atomically.
static void register_child(pid_t pid)
{
	char path[64], buf[4096], tmp[4096], line[64];
	int fd, len;
	ssize_t n;
	char *p;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	fd = openat(registry_proc, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot register container: /proc/%s", path);
	n = read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	// Skip "pid (comm)", which may hold anything, then 19 fields.
	p = strrchr(buf, ')');
	for (len = 0; p && len < 20; len++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		diex("cannot register container: bad /proc/%s", path);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", registry_name);
	len = snprintf(line, sizeof(line), "%d %llu\n", (int)pid, start);
	fd = openat(registry_dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, line, len) < 0 || close(fd) < 0 ||
	    renameat(registry_dir, tmp, registry_dir, registry_name) < 0)
		die("cannot register container: %s", registry_name);
}

// The parent of a Fork step ends the way its child ended, as unshare does.
static void mirror_unshare(pid_t pid)
{
	int status, rc;
	sigset_t set;

	do {
		rc = waitpid(pid, &status, 0);
	} while (rc == -1 && errno == EINTR);
	unregister();
	if (rc == -1)
		die("waitpid failed");
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (sig != SIGKILL && signal(sig, SIG_DFL) == SIG_ERR)
			die("signal handler reset failed");
		if (sigemptyset(&set) != 0 || sigaddset(&set, sig) != 0 ||
		    sigprocmask(SIG_UNBLOCK, &set, NULL) != 0)
			die("sigprocmask unblock failed");
		kill(getpid(), sig);
	}
	die("child exit failed");
}

// The signals an init passes on: those a shell, a terminal or a
// supervisor sends to say something, not those the kernel sends a
// faulting process, nor the ones no handler can take.
static const int init_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH };
#define N_INIT_SIGNALS (int)(sizeof(init_signals) / sizeof(init_signals[0]))
static struct sigaction init_saved[N_INIT_SIGNALS]; // the child gets them back

// exit_as ends this process as a child ended (status), a signal death
// as exit status 128+signal: lxc-attach's way, and an init's, which
// cannot die of its own signal.
static void exit_as(int status)
{
	unregister();
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(1);
}

// mirror_init waits as an init does (FORK_INIT): every child that ends is
// reaped, the orphans this pid namespace hands us included, until the one
// we started ends.
static void mirror_init(pid_t pid)
{
	int status = 0;
	pid_t w;

	do {
		w = waitpid(-1, &status, 0);
		if (w < 0 && errno != EINTR)
			die("waitpid failed");
	} while (w != pid);
	exit_as(status);
}

// ... as lxc-attach does: a signal death becomes exit status 128+signal;
// ^C and ^\ are for the child, not for us.
static void mirror_lxc(pid_t pid)
{
	int status = 0;

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid failed");
	}
	exit_as(status);
}

// ... and as nsenter does: a stopped child stops us too.
static void mirror_nsenter(pid_t pid)
{
	int status = 0;
	pid_t ret;

	for (;;) {
		ret = waitpid(pid, &status, WUNTRACED);
		if (ret == pid && WIFSTOPPED(status)) {
			kill(getpid(), SIGSTOP);
			kill(pid, SIGCONT);
		} else {
			break;
		}
	}
	unregister();
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		kill(getpid(), WTERMSIG(status));
	_exit(1);
}

// The capget/capset ABI (linux/capability.h, which musl's headers lack).
struct cap_header {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522

static void ambient_caps(int last_cap)
{
	struct cap_header hdr = { CAP_VERSION_3, 0 };
	struct cap_data data[2];
	uint64_t effective;
	int cap;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		die("capget failed");
	// A capability must be inheritable before it can be made ambient.
	data[0].inheritable = data[0].permitted;
	data[1].inheritable = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset failed");
	effective = ((uint64_t)data[1].effective << 32) | data[0].effective;
	for (cap = 0; cap < 64; cap++) {
		if (cap > last_cap)
			continue;
		if ((effective & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			die("prctl(PR_CAP_AMBIENT) failed");
	}
}

// exec_script runs a file the kernel cannot execute with /bin/sh, as
// glibc's execvp does on ENOEXEC.
static void exec_script(const char *file, char **argv)
{
	int argc = 0;
	char **sh;

	while (argv[argc])
		argc++;
	sh = calloc(argc + 2, sizeof(char *));
	if (!sh)
		return;
	sh[0] = "/bin/sh";
	sh[1] = (char *)file;
	if (argc > 1)
		memcpy(sh + 2, argv + 1, (argc - 1) * sizeof(char *));
	execv("/bin/sh", sh);
	free(sh);
}

// execvp_glibc searches PATH exactly as glibc's execvp does (musl's
// differs: another default PATH and no script fallback). It returns only
// on failure, with errno set.
static void execvp_glibc(const char *file, char **argv)
{
	const char *path, *p, *end;
	size_t flen = strlen(file);
	int eacces = 0;
	char *buf;

	if (*file == '\0') {
		errno = ENOENT;
		return;
	}
	if (strchr(file, '/')) {
		execv(file, argv);
		if (errno == ENOEXEC)
			exec_script(file, argv);
		return;
	}
	path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin"; // confstr(_CS_PATH)
	buf = malloc(strlen(path) + flen + 2);
	if (!buf)
		return;
	for (p = path;; p = end + 1) {
		size_t dlen;

		end = strchrnul(p, ':');
		dlen = end - p;
		// An empty entry is the current directory.
		memcpy(buf, p, dlen);
		if (dlen)
			buf[dlen++] = '/';
		memcpy(buf + dlen, file, flen + 1);
		execv(buf, argv);
		switch (errno) {
		case EACCES:
			eacces = 1;
			// fall through
		case ENOENT:
		case ESTALE:
		case ENOTDIR:
		case ENODEV:
		case ETIMEDOUT:
			break;
		case ENOEXEC:
			exec_script(buf, argv);
			// fall through
		default:
			return;
		}
		if (*end == '\0')
			break;
	}
	if (eacces)
		errno = EACCES;
}

static void do_exec(const struct op *o)
{
	const char *msg = S(o, 0), *file = S(o, 1);
	char **argv = o->strs + 2;
	int flags = I(o, 0);

	if (flags & EXEC_SEARCH)
		execvp_glibc(file, argv);
	else
		execv(file, argv);
	if (flags & EXEC_TRY)
		return; // a fallback follows
	if (flags & EXEC_LXC_CODES) {
		int code = errno == ENOENT ? 127 : (errno == EACCES || errno == ENOEXEC) ? 126 : 255;

		report(1, "%s", msg);
		_exit(code);
	}
	report(1, "%s %s", msg, file);
	_exit(errno == ENOENT ? 127 : 126);
}

// login makes fd the controlling terminal of a new session and the stdin,
// stdout and stderr that are terminals, as LXC's terminal_prepare_login.
static void login(int fd, const char *msg)
{
	int std;

	setsid();
	if (ioctl(fd, TIOCSCTTY, (char *)NULL) < 0)
		die("%s", msg);
	for (std = 0; std <= 2; std++)
		if (isatty(std) && dup2(fd, std) < 0)
			die("%s", msg);
	if (fd > 2)
		close(fd);
}

// enter_pass is one pass of nsenter's enter_namespaces(): the namespaces
// in mask that are still to join go through the pidfd in one setns(2)
// when they have no descriptor of their own, else one by one. Joined
// ones are marked done. Errors are fatal unless ignore is set.
static void enter_pass(const struct op *o, int pidfd, int mask, int ignore, int *done)
{
	int k, nns = (o->nint - 1) / 2, viafd = 0;

	if (pidfd >= 0) {
		for (k = 0; k < nns; k++) {
			int type = I(o, 1 + 2 * k);

			if (!done[k] && (type & mask) && fdref(I(o, 2 + 2 * k)) < 0)
				viafd |= type;
		}
		if (viafd) {
			if (setns(pidfd, viafd) == 0) {
				for (k = 0; k < nns; k++)
					if (I(o, 1 + 2 * k) & viafd)
						done[k] = 1;
			} else if (!ignore) {
				die("%s", S(o, 0));
			}
		}
	}
	for (k = 0; k < nns; k++) {
		int type = I(o, 1 + 2 * k), fd = fdref(I(o, 2 + 2 * k));

		if (done[k] || !(type & mask) || fd < 0)
			continue;
		if (setns(fd, type) == 0) {
			done[k] = 1;
			close_ref(I(o, 2 + 2 * k));
		} else if (!ignore) {
			die("%s", S(o, 1 + k));
		}
	}
}

static void enter(const struct op *o)
{
	int nns = (o->nint - 1) / 2, k, left = 0;
	int pidfd = fdref(I(o, 0));
	int done[16] = { 0 };

	if (nns > 16 || o->nstr < nns + 1)
		diex("corrupt exec plan");
	// Everything but the user namespace first, ignoring errors: when we
	// are dropping privileges the user namespace must come last, when we
	// gain them (it fails now) it comes first in the second pass.
	enter_pass(o, pidfd, ~CLONE_NEWUSER, 1, done);
	for (k = 0; k < nns; k++)
		if (!done[k])
			left |= I(o, 1 + 2 * k);
	if (left)
		enter_pass(o, pidfd, left, 0, done);
	if (pidfd >= 0)
		close_ref(I(o, 0));
}

static void run(struct op *ops, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct op *o = &ops[i];
		int ignored = last_ignored;

		last_ignored = 0;
		switch (o->code) {
		case OP_SPAWN: {
			int slot = I(o, 0), count = I(o, 1), sync = I(o, 2);
			int p[2] = { -1, -1 }, s;
			pid_t pid;

			if (slot < 0 || slot >= MAX_SLOTS || count < 0 || count > n - i - 1)
				diex("corrupt exec plan");
			if (sync && pipe2(p, O_CLOEXEC) < 0)
				die("pipe failed");
			pid = fork();
			if (pid < 0)
				die("fork failed");
			if (pid == 0) {
				for (s = 0; s < MAX_SLOTS; s++)
					if (slots[s].go >= 0)
						close(slots[s].go);
				if (sync) {
					char c = 0;

					close(p[1]);
					if (read_all(p[0], &c, 1) != 1)
						_exit(0); // our parent is gone: nothing to do
					if (c != SYNC_BYTE)
						diex("failed to read go-ahead");
					close(p[0]);
				}
				run(o + 1, count);
				_exit(0);
			}
			if (sync)
				close(p[0]);
			slots[slot].pid = pid;
			slots[slot].go = p[1];
			i += count;
			break;
		}
		case OP_RELEASE: {
			int slot = I(o, 0);
			char c = SYNC_BYTE;

			if (slot < 0 || slot >= MAX_SLOTS || slots[slot].pid <= 0)
				diex("corrupt exec plan");
			if (slots[slot].go >= 0) {
				write_all(slots[slot].go, &c, 1);
				close(slots[slot].go);
				slots[slot].go = -1;
			}
			wait_helper(slots[slot].pid);
			slots[slot].pid = 0;
			break;
		}
		case OP_UNSHARE:
			if (unshare(I(o, 0)) < 0)
				die("%s", S(o, 0));
			break;
		case OP_WRITE: {
			const char *data = S(o, 1);
			int fd = open(S(o, 0), O_WRONLY | O_CLOEXEC | O_NOCTTY);

			if (fd < 0) {
				if (errno == ENOENT && (I(o, 0) & WRITE_IGNORE_ENOENT))
					break;
				die("%s", S(o, 2));
			}
			if (write_all(fd, data, strlen(data)) < 0)
				die("%s", S(o, 3));
			close(fd);
			break;
		}
		case OP_MOUNT:
			if (mount(nullable(S(o, 0)), S(o, 1), nullable(S(o, 2)),
				  I(o, 0), nullable(S(o, 3))) < 0) {
				if (!I(o, 1) || errno != I(o, 1))
					die("%s", S(o, 4));
				last_ignored = 1;
			}
			break;
		case OP_ORELSE: {
			int count = I(o, 0), then = I(o, 1);

			if (count < 0 || count > n - i - 1)
				diex("corrupt exec plan");
			// "else" runs after a tolerated failure, "then" after success.
			if (then ? ignored : !ignored)
				i += count;
			break;
		}
		case OP_PERSONALITY:
			if (personality(I(o, 0)) < 0)
				die("%s", S(o, 0));
			break;
		case OP_DROPBOUNDING: {
			uint64_t keep = I(o, 0);
			int cap;

			for (cap = 0; cap <= I(o, 1); cap++) {
				if (keep & (1ULL << cap))
					continue;
				if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
					char m[2048];

					// The message ends where the number goes.
					snprintf(m, sizeof(m), "%s%d", S(o, 0), cap);
					die("%s", m);
				}
			}
			break;
		}
		case OP_PRCTL:
			if (prctl(I(o, 0), I(o, 1), 0, 0, 0) < 0)
				die("%s", S(o, 0));
			break;
		case OP_QUIET:
			quiet = 1;
			break;
		case OP_LOG:
			// Kept open for failures after a failed exec, not for the
			// program a successful one runs.
			log_fd = fdref(I(o, 0));
			fcntl(log_fd, F_SETFD, FD_CLOEXEC);
			log_prefix = S(o, 0);
			break;
		case OP_CPUS: {
			// A failure leaves the one CPU: nothing is wrong but speed.
			uint64_t mask[16];
			int k, words = o->nint < 16 ? o->nint : 16;

			for (k = 0; k < words; k++)
				mask[k] = (uint64_t)I(o, k);
			if (words > 0)
				syscall(SYS_sched_setaffinity, 0, words * sizeof(mask[0]), mask);
			break;
		}
		case OP_NAME:
			// Only what ps shows: a failure changes nothing else.
			prctl(PR_SET_NAME, S(o, 0), 0, 0, 0);
			break;
		case OP_LOGIN:
			login(fdref(I(o, 0)), S(o, 0));
			break;
		case OP_PIVOTROOT:
			if (syscall(SYS_pivot_root, S(o, 0), S(o, 1)) < 0)
				die("%s", S(o, 2));
			break;
		case OP_UMOUNT:
			if (umount2(S(o, 0), I(o, 0)) < 0) {
				if (!I(o, 1) || errno != I(o, 1))
					die("%s", S(o, 1));
				last_ignored = 1;
			}
			break;
		case OP_MKDIR:
			if (mkdir(S(o, 0), I(o, 0)) < 0 && errno != EEXIST)
				die("%s", S(o, 1));
			break;
		case OP_MKNOD:
			if (mknod(S(o, 0), I(o, 0), I(o, 1)) < 0 && errno != EEXIST)
				die("%s", S(o, 1));
			break;
		case OP_SYMLINK:
			if (symlink(S(o, 0), S(o, 1)) < 0 && errno != EEXIST)
				die("%s", S(o, 2));
			break;
		case OP_SETHOSTNAME:
			if (sethostname(S(o, 0), strlen(S(o, 0))) < 0)
				die("%s", S(o, 1));
			break;
		case OP_CHROOT:
			if (chroot(S(o, 0)) < 0)
				die("%s", S(o, 1));
			break;
		case OP_CHDIR:
			if (chdir(S(o, 0)) < 0 && !I(o, 0))
				die("%s", S(o, 1));
			break;
		case OP_CHECKDIR: {
			int fd = open(S(o, 0), O_PATH | O_DIRECTORY | O_CLOEXEC);

			if (fd < 0)
				die("%s", S(o, 1));
			close(fd);
			break;
		}
		case OP_SETGROUPS:
			if (setgroups(0, NULL) != 0) {
				if (I(o, 0) == GROUPS_TRY)
					setgroups_failed = 1;
				else if (I(o, 0) == GROUPS_MUST || setgroups_failed)
					die("%s", S(o, 0));
			}
			break;
		case OP_SETGID:
			if (setgid((gid_t)I(o, 0)) < 0)
				die("%s", S(o, 0));
			break;
		case OP_SETUID:
			if (setuid((uid_t)I(o, 0)) < 0)
				die("%s", S(o, 0));
			break;
		case OP_FORK: {
			int style = I(o, 0), killsig = I(o, 1), forward = I(o, 2);
			int count = I(o, 3), s;
			sigset_t set, old;
			pid_t pid;

			if (count < 0 || count > n - i - 1)
				diex("corrupt exec plan");
			signal(SIGCHLD, SIG_DFL);
			sigemptyset(&set);
			if (style == FORK_UNSHARE && forward) {
				struct sigaction sa;

				memset(&sa, 0, sizeof(sa));
				sa.sa_handler = forward_signal;
				sigemptyset(&sa.sa_mask);
				sa.sa_flags = SA_RESTART;
				if (sigaction(SIGTERM, &sa, NULL) == -1)
					die("sigaction SIGTERM failed");
				if (sigaction(SIGINT, &sa, NULL) == -1)
					die("sigaction SIGINT failed");
				if (sigprocmask(SIG_SETMASK, NULL, &old) != 0)
					die("sigprocmask failed");
			} else if (style == FORK_UNSHARE) {
				// Block them so that an impatient caller's ^C reaches
				// the child first and we learn how it ended.
				if (sigaddset(&set, SIGINT) != 0 || sigaddset(&set, SIGTERM) != 0 ||
				    sigprocmask(SIG_BLOCK, &set, &old) != 0)
					die("sigprocmask block failed");
			} else if (style == FORK_INIT) {
				// Held until the child's pid is known to the handler;
				// orphans outside a new pid namespace come to us too.
				struct sigaction sa;

				memset(&sa, 0, sizeof(sa));
				sa.sa_sigaction = forward_sent;
				sigemptyset(&sa.sa_mask);
				sa.sa_flags = SA_RESTART | SA_SIGINFO;
				for (s = 0; s < N_INIT_SIGNALS; s++)
					if (sigaddset(&set, init_signals[s]) != 0 ||
					    sigaction(init_signals[s], &sa, &init_saved[s]) != 0)
						die("sigaction failed");
				if (sigprocmask(SIG_BLOCK, &set, &old) != 0)
					die("sigprocmask block failed");
				if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
					die("prctl(PR_SET_CHILD_SUBREAPER) failed");
			}
			if (killsig) {
				parent_pidfd = syscall(SYS_pidfd_open, getpid(), 0);
				if (parent_pidfd < 0)
					die("pidfd_open failed");
			}
			if (*S(o, 0))
				registry_open(S(o, 0));
			pid = fork();
			if (pid < 0)
				die("fork failed");
			if (pid == 0) {
				forward_pid = 0;
				if (registry_dir >= 0) {
					// The entry is the parent's to keep.
					close(registry_dir);
					close(registry_proc);
					registry_dir = registry_proc = -1;
				}
				if (style == FORK_INIT)
					for (s = 0; s < N_INIT_SIGNALS; s++)
						sigaction(init_signals[s], &init_saved[s], NULL);
				if ((style == FORK_UNSHARE || style == FORK_INIT) && sigprocmask(SIG_SETMASK, &old, NULL))
					die("sigprocmask restore failed");
				for (s = 0; s < MAX_SLOTS; s++) {
					if (slots[s].go >= 0)
						close(slots[s].go);
					slots[s].go = -1;
					slots[s].pid = 0;
				}
				i += count;
				break;
			}
			if (parent_pidfd >= 0) {
				close(parent_pidfd);
				parent_pidfd = -1;
			}
			if (forward || style == FORK_INIT)
				forward_pid = pid;
			if (style == FORK_INIT && sigprocmask(SIG_SETMASK, &old, NULL))
				die("sigprocmask restore failed");
			if (registry_dir >= 0)
				register_child(pid);
			run(o + 1, count);
			if (style == FORK_NSENTER)
				mirror_nsenter(pid);
			if (style == FORK_LXC)
				mirror_lxc(pid);
			if (style == FORK_INIT)
				mirror_init(pid);
			mirror_unshare(pid);
			break;
		}
		case OP_PARENTDEATH:
			if (prctl(PR_SET_PDEATHSIG, (unsigned long)I(o, 0)) < 0)
				die("prctl failed");
			if (parent_pidfd >= 0) {
				// If we were reparented before prctl() took effect, the
				// parent that asked for this is gone: give up as unshare does.
				struct pollfd pfd = { .fd = parent_pidfd, .events = POLLIN };
				int ready = poll(&pfd, 1, 0);

				if (ready < 0)
					die("poll parent pidfd failed");
				if (ready)
					_exit(1);
				close(parent_pidfd);
				parent_pidfd = -1;
			}
			break;
		case OP_AMBIENTCAPS:
			ambient_caps(I(o, 0));
			break;
		case OP_ENVIRON: {
			int j;

			clearenv();
			for (j = 0; j < o->nstr; j++)
				if (o->strs[j] && putenv(o->strs[j]) != 0)
					die("failed to set environment variables");
			break;
		}
		case OP_EXEC:
			do_exec(o);
			break;
		case OP_ENTER:
			enter(o);
			break;
		case OP_OPEN: {
			int reg = I(o, 1), at = I(o, 2), fd;

			if (reg < 0 || reg >= MAX_REGS)
				diex("corrupt exec plan");
			fd = open(S(o, 0), I(o, 0) | O_CLOEXEC);
			if (fd < 0)
				die("%s", S(o, 1));
			if (at >= 0 && fd != at) {
				if (dup3(fd, at, O_CLOEXEC) < 0)
					die("%s", S(o, 1));
				close(fd);
				fd = at;
			}
			if (regs[reg] >= 0)
				close(regs[reg]);
			regs[reg] = fd;
			break;
		}
		case OP_FCHDIR:
			if (fchdir(fdref(I(o, 0))) < 0)
				die("%s", S(o, 0));
			break;
		case OP_CLOSE:
			close_ref(I(o, 0));
			break;
		case OP_WRITEPID: {
			char buf[32];
			int len = snprintf(buf, sizeof(buf), "%d", (int)getpid());

			if (write_all(fdref(I(o, 0)), buf, len) < 0)
				die("%s", S(o, 0));
			break;
		}
		}
	}
}

// The Go runtime sizes itself by the CPUs it may run on: GOMAXPROCS, and
// with it how many threads it starts and how they wake each other. nsbox's
// Go side is a few milliseconds of parsing that needs one CPU; on these
// machines it runs about 15% faster confined to one (make bench). So a
// plain run confines the process to the CPU it is on and leaves it there;
// every plan starts with an OP_CPUS step (nsexec.Run and Start add it,
// from nsbox_caller_cpus) that gives the caller's CPUs back before
// anything else, so the target never sees the difference (bats tests
// check). A GOMAXPROCS the caller set is left alone.
static unsigned long caller_cpus[1024 / (8 * sizeof(unsigned long))];
static long caller_cpus_len = -1;

#define CPU_BITS (8 * sizeof(unsigned long))

static void narrow_cpus(void)
{
	unsigned long one[sizeof(caller_cpus) / sizeof(unsigned long)];
	unsigned int cpu = 0, first = ~0u, count = 0, k;
	long n;

	if (getenv("GOMAXPROCS"))
		return;
	n = syscall(SYS_sched_getaffinity, 0, sizeof(caller_cpus), caller_cpus);
	if (n <= 0)
		return;
	for (k = 0; k < (unsigned int)n * 8; k++) {
		if (caller_cpus[k / CPU_BITS] & (1UL << (k % CPU_BITS))) {
			if (first == ~0u)
				first = k;
			count++;
		}
	}
	if (count <= 1)
		return;
	if (syscall(SYS_getcpu, &cpu, NULL, NULL) < 0 || cpu >= (unsigned int)n * 8 ||
	    !(caller_cpus[cpu / CPU_BITS] & (1UL << (cpu % CPU_BITS))))
		cpu = first;
	memset(one, 0, sizeof(one));
	one[cpu / CPU_BITS] = 1UL << (cpu % CPU_BITS);
	if (syscall(SYS_sched_setaffinity, 0, n, one) == 0)
		caller_cpus_len = n;
}

// nsbox_caller_cpus copies the caller's CPU mask, as narrow_cpus found
// it, into buf (len bytes) and returns its length in bytes: 0 when the
// CPUs were left alone.
int nsbox_caller_cpus(void *buf, int len)
{
	if (caller_cpus_len <= 0 || caller_cpus_len > len)
		return 0;
	memcpy(buf, caller_cpus, caller_cpus_len);
	return (int)caller_cpus_len;
}

__attribute__((constructor)) static void nsexec(void)
{
	const char *gate = getenv(GATE);
	struct op *ops = NULL;
	char *buf = NULL, *end;
	size_t len = 0, cap = 0;
	long fd;
	int n, i;

	if (!gate) {
		narrow_cpus();
		return;
	}
	errno = 0;
	fd = strtol(gate, &end, 10);
	if (errno || *end || end == gate || fd < 0 || fd > INT32_MAX)
		diex("bad %s", GATE);
	unsetenv(GATE);
	for (;;) {
		ssize_t got;

		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				die("cannot read exec plan");
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			die("cannot read exec plan");
		if (got == 0)
			break;
		len += got;
	}
	close(fd);
	n = decode(buf, len, &ops);
	if (n < 0)
		diex("corrupt exec plan");
	for (i = 0; i < MAX_SLOTS; i++)
		slots[i].go = -1;
	for (i = 0; i < MAX_REGS; i++)
		regs[i] = -1;
	run(ops, n);
	// A plan always ends in an exec; falling off its end is a bug.
	diex("exec plan has no exec step");
}
