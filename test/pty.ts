// Runs a program in a pseudo-terminal of its own, for tests that drive an interactive program — such as
// `kubectl exec -it` — as a person at a terminal does. The terminal is python3's `pty` module (Debian's
// /usr/bin/python3, standard library only): an implementation independent of the process kubelet's
// own tty shim, so a test of one is not a test of itself.
//
//   import { spawnPty } from "../pty.ts";
//   const term = spawnPty(kubectl, ["exec", "-it", pod, "--", "sh"], { env, columns: 80, rows: 24 });
//   await term.expect(/[#$] $/);        // waits until new output matches; returns the match
//   term.write("tty\r");                // keystrokes as typed: Enter is "\r", Ctrl-C "\x03", Ctrl-D "\x04"
//   await term.expect(/\/dev\/pts\/\d+/);
//   term.resize(120, 40);               // TIOCSWINSZ on the terminal: the program gets SIGWINCH
//   const code = await term.exit;       // exit code; 128 + n when killed by signal n
//
// spawnPty(file, args, options) → Pty
//   options.env       the program's environment (default: this process's); TERM defaults to "xterm"
//   options.cwd       its working directory
//   options.columns, options.rows   the terminal's initial size (default 80 × 24)
// Pty
//   expect(pattern, timeoutMs = 15000): Promise<RegExpExecArray>
//       Waits until the output not yet consumed matches `pattern`, consumes it up to the end of the
//       match (as pexpect does, so the next expect sees only what comes after) and returns the match.
//       Rejects on timeout, or when the program exits first, with the unconsumed output in the message.
//   write(keys: string | Buffer)   what is typed (the terminal echoes it, as a real one does)
//   resize(columns, rows)          a new window size
//   output: string                 everything the program wrote so far (with its escape sequences)
//   exit: Promise<number>          its exit code, once the terminal is drained
//   kill()                         hangs the terminal up and kills the program (SIGKILL)
// The terminal answers no queries: a program that asks for the cursor position (busybox ash writes
// ESC[6n after its prompt) gets no reply and goes on without one, so match prompts without `$`.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import type { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

export interface PtyOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  columns?: number;
  rows?: number;
}

export interface Pty {
  expect(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  write(keys: string | Buffer): void;
  resize(columns: number, rows: number): void;
  readonly output: string;
  readonly exit: Promise<number>;
  kill(): void;
}

// The relay: fork the program on a new terminal (its size set before exec), copy our stdin to the
// terminal and the terminal to our stdout, apply "<columns> <rows>" lines from fd 3, and exit as the
// program did once the terminal has nothing more to say (EIO: every holder of the slave is gone).
const RELAY = `
import errno, fcntl, os, pty, select, signal, struct, sys, termios
cols, rows, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
def size(fd, c, r): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
pid, master = pty.fork()
if pid == 0:
    size(0, cols, rows)
    try: os.execvp(argv[0], argv)
    except OSError as e: os.write(2, ("exec %s: %s\\n" % (argv[0], e)).encode()); os._exit(127)
signal.signal(signal.SIGTERM, lambda *_: (os.killpg(pid, signal.SIGKILL), os._exit(137)))
control, inputs, line = 3, [0, 3], b""
while True:
    ready, _, _ = select.select([master] + inputs, [], [])
    if master in ready:
        try: data = os.read(master, 65536)
        except OSError as e:
            if e.errno != errno.EIO: raise
            data = b""
        if not data: break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if not data: inputs.remove(0)
        while data: data = data[os.write(master, data):]
    if control in ready:
        data = os.read(control, 1024)
        if not data: inputs.remove(control)
        line += data
        while b"\\n" in line:
            one, line = line.split(b"\\n", 1)
            c, r = one.split()
            size(master, int(c), int(r))
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
`;

function python(): string {
  return existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

export function spawnPty(file: string, args: string[], options: PtyOptions = {}): Pty {
  const env = { TERM: "xterm", ...(options.env ?? process.env) };
  const child: ChildProcess = spawn(
    python(),
    ["-c", RELAY, String(options.columns ?? 80), String(options.rows ?? 24), file, ...args],
    { env, ...(options.cwd ? { cwd: options.cwd } : {}), stdio: ["pipe", "pipe", "pipe", "pipe"] },
  );
  const decoder = new StringDecoder("utf8");
  let output = "";
  let consumed = 0;
  let exited = false;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const all = waiters;
    waiters = [];
    for (const w of all) w();
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    output += decoder.write(chunk);
    wake();
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const control = child.stdio[3] as Writable;
  control.on("error", () => {});
  child.stdin!.on("error", () => {});
  const exit = new Promise<number>((resolve) => {
    child.on("close", (code, signal) => {
      exited = true;
      wake();
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });

  return {
    get output() {
      return output;
    },
    exit,
    expect(pattern, timeoutMs = 15_000) {
      const flags = pattern.flags.replace(/[gy]/g, "");
      const re = new RegExp(pattern.source, flags);
      return new Promise((resolve, reject) => {
        let settled = false;
        const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        const fail = (why: string) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(
            new Error(
              `expected ${pattern} in the terminal: ${why}; unconsumed output: ${JSON.stringify(output.slice(consumed))}` +
                (stderr ? `; relay stderr: ${stderr}` : ""),
            ),
          );
        };
        const check = () => {
          if (settled) return;
          const m = re.exec(output.slice(consumed));
          if (m) {
            settled = true;
            clearTimeout(timer);
            consumed += m.index + m[0].length;
            return resolve(m);
          }
          if (exited) return fail("the program exited");
          waiters.push(check);
        };
        check();
      });
    },
    write(keys) {
      child.stdin!.write(keys);
    },
    resize(columns, rows) {
      control.write(`${Math.trunc(columns)} ${Math.trunc(rows)}\n`);
    },
    kill() {
      child.kill("SIGTERM");
    },
  };
}
