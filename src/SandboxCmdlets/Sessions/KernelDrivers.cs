using System.Collections.Generic;
using Sandbox.Lifecycle;

namespace Sandbox.Sessions
{
    /// <summary>
    /// The programs that keep a language's state inside the sandbox, passed to the image's own interpreter as its -c/-e
    /// argument (nothing is written into the sandbox and nothing is installed). Both speak <see cref="KernelFrames"/>.
    /// Python moves the protocol to duplicated descriptors and points fd 0 at /dev/null and fd 1/2 at pipes that a
    /// thread of the driver reads and frames, so print, os.write(1, ...) and child processes all come back as framed
    /// stdout/stderr. Node cannot move its own descriptors, so /bin/sh starts it with the protocol on fd 3/4 and fd 1
    /// pointing at the exec's stderr: console.* and process.stdout/stderr.write in the code are framed, and a raw
    /// write to fd 1 (fs.writeSync(1, ...)) arrives unframed as stderr, never inside the protocol.
    /// </summary>
    public static class KernelDrivers
    {
        public static bool Supports(string language) => language == "python" || language == "node";

        /// <summary>The exec's argv for <paramref name="language"/>, run with <paramref name="interpreter"/> (the language table's).</summary>
        public static IList<string> Argv(string language, string interpreter)
        {
            if (language == "python") return new List<string> { interpreter, "-c", Python };
            if (language == "node") return new List<string> { "/bin/sh", "-c", "exec \"$1\" -e \"$2\" 3>&1 4<&0 </dev/null 1>&2", "sandbox-kernel", interpreter, Node };
            throw new SandboxException("KernelLanguageNotSupported", SandboxErrorKind.InvalidArgument,
                $"A session keeps code state for python and node only, not for '{language}'.", language,
                "Run this language without -Session (each call starts afresh), or use python or node.");
        }

        const string Python = """
import os, sys, signal, select, threading, struct, traceback, ast, fcntl
P = os.dup(1)
R = os.dup(0)
_n = os.open('/dev/null', os.O_RDONLY); os.dup2(_n, 0); os.close(_n)
out_r, out_w = os.pipe(); err_r, err_w = os.pipe(); ctl_r, ctl_w = os.pipe()
os.dup2(out_w, 1); os.dup2(err_w, 2); os.close(out_w); os.close(err_w)
for _fd in (out_r, err_r):
    fcntl.fcntl(_fd, fcntl.F_SETFL, fcntl.fcntl(_fd, fcntl.F_GETFL) | os.O_NONBLOCK)
sys.stdout = open(1, 'w', buffering=1, encoding='utf-8', errors='replace', closefd=False)
sys.stderr = open(2, 'w', buffering=1, encoding='utf-8', errors='replace', closefd=False)
sys.stdin = open(0, 'r', closefd=False)
_lock = threading.Lock()
def send(kind, data):
    with _lock:
        view = memoryview(kind + struct.pack('>I', len(data)) + data)
        while view:
            view = view[os.write(P, view):]
def drain(fd, kind):
    while True:
        try:
            d = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not d:
            return False
        send(kind, d)
drained = threading.Event()
def pump():
    watch = {out_r: b'O', err_r: b'E'}
    while True:
        ready = select.select(list(watch) + [ctl_r], [], [])[0]
        for fd in list(watch):
            if fd in ready and not drain(fd, watch[fd]):
                del watch[fd]
        if ctl_r in ready:
            os.read(ctl_r, 1)
            for fd in list(watch):
                drain(fd, watch[fd])
            drained.set()
threading.Thread(target=pump, daemon=True).start()
running = False
def interrupt(signum, frame):
    if running:
        raise KeyboardInterrupt('timed out' if signum == signal.SIGALRM else 'interrupted')
signal.signal(signal.SIGINT, interrupt)
signal.signal(signal.SIGALRM, interrupt)
g = {'__name__': '__main__', '__builtins__': __builtins__}
def read_exact(n):
    b = b''
    while len(b) < n:
        c = os.read(R, n - len(b))
        if not c:
            os._exit(0)
        b += c
    return b
def run(code, timeout_ms):
    global running
    try:
        tree = ast.parse(code, '<code>', 'exec')
    except SyntaxError as e:
        return b'1', ''.join(traceback.format_exception_only(type(e), e))
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = compile(ast.Expression(tree.body.pop().value), '<code>', 'eval')
    body = compile(tree, '<code>', 'exec')
    try:
        running = True
        if timeout_ms > 0:
            signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000.0)
        exec(body, g)
        if last is not None:
            value = eval(last, g)
            if value is not None:
                print(repr(value))
        return b'0', ''
    except KeyboardInterrupt as e:
        return b'2', ''.join(traceback.format_exception(type(e), e, e.__traceback__.tb_next))
    except BaseException as e:
        return b'1', ''.join(traceback.format_exception(type(e), e, e.__traceback__.tb_next))
    finally:
        running = False
        signal.setitimer(signal.ITIMER_REAL, 0)
send(b'R', str(os.getpid()).encode())
while True:
    head = read_exact(5)
    request = read_exact(struct.unpack('>I', head[1:])[0])
    timeout, _, code = request.partition(b'\n')
    try:
        status, text = run(code.decode('utf-8', 'replace'), int(timeout))
    except KeyboardInterrupt:
        status, text = b'2', 'KeyboardInterrupt: interrupted\n'
    try:
        sys.stdout.flush(); sys.stderr.flush()
    except Exception:
        pass
    os.write(ctl_w, b'x')
    drained.wait(); drained.clear()
    send(b'D', status + b'\n' + text.encode('utf-8', 'replace'))
""";

        const string Node = """
const vm = require('vm'), fs = require('fs'), util = require('util'), stream = require('stream');
const P = 3, R = 4;
function send(kind, data) {
  const b = Buffer.concat([Buffer.from(kind, 'latin1'), Buffer.alloc(4), data]);
  b.writeUInt32BE(data.length, 1);
  let o = 0;
  while (o < b.length) {
    try { o += fs.writeSync(P, b, o); } catch (e) { if (e.code !== 'EAGAIN') throw e; }
  }
}
const framed = kind => new stream.Writable({ write(chunk, enc, cb) { send(kind, Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))); cb(); } });
const out = framed('O'), err = framed('E');
const con = new console.Console({ stdout: out, stderr: err, colorMode: false });
const toBuffer = s => Buffer.isBuffer(s) || s instanceof Uint8Array ? Buffer.from(s) : Buffer.from(String(s));
process.stdout.write = (s, e, cb) => { send('O', toBuffer(s)); if (typeof e === 'function') e(); else if (typeof cb === 'function') cb(); return true; };
process.stderr.write = (s, e, cb) => { send('E', toBuffer(s)); if (typeof e === 'function') e(); else if (typeof cb === 'function') cb(); return true; };
process.on('SIGINT', () => {});
process.on('uncaughtException', e => send('E', Buffer.from(String(e && e.stack || e) + '\n')));
process.on('unhandledRejection', e => send('E', Buffer.from('Unhandled rejection: ' + String(e && e.stack || e) + '\n')));
const ctx = vm.createContext({
  console: con, process, require, Buffer, URL, URLSearchParams, TextEncoder, TextDecoder, queueMicrotask, structuredClone,
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, module: { exports: {} }, exports: {},
});
const driverFrame = /node:|\[eval\]|evalmachine/;
function describe(e) {
  if (e && typeof e.stack === 'string') return e.stack.split('\n').filter(l => !/^\s+at /.test(l) || !driverFrame.test(l)).join('\n') + '\n';
  return 'Uncaught ' + util.inspect(e) + '\n';
}
class Interrupted extends Error {}
async function run(body) {
  const nl = body.indexOf(10);
  const timeout = Number(body.subarray(0, nl).toString());
  const code = body.subarray(nl + 1).toString('utf8');
  try {
    let value = vm.runInContext(code, ctx, { filename: '<code>', timeout: timeout > 0 ? timeout : undefined, breakOnSigint: true, displayErrors: false });
    if (value && typeof value.then === 'function') {
      let timer;
      const limit = new Promise((_, reject) => { if (timeout > 0) timer = setTimeout(() => reject(new Interrupted('timed out')), timeout); });
      try { value = await Promise.race([value, limit]); } finally { clearTimeout(timer); }
    }
    if (value !== undefined) con.log(util.inspect(value));
    return '0\n';
  } catch (e) {
    if (e instanceof Interrupted || (e && (e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' || e.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED')))
      return '2\n' + String(e.message) + '\n';
    return '1\n' + describe(e);
  }
}
let pending = Buffer.alloc(0), busy = false;
const queue = [];
async function next() {
  if (busy) return;
  busy = true;
  while (queue.length) send('D', Buffer.from(await run(queue.shift())));
  busy = false;
}
const input = fs.createReadStream(null, { fd: R, highWaterMark: 65536 });
input.on('data', d => {
  pending = Buffer.concat([pending, d]);
  while (pending.length >= 5) {
    const n = pending.readUInt32BE(1);
    if (pending.length < 5 + n) break;
    queue.push(pending.subarray(5, 5 + n));
    pending = pending.subarray(5 + n);
  }
  next();
});
input.on('end', () => process.exit(0));
send('R', Buffer.from(String(process.pid)));
""";
    }
}
