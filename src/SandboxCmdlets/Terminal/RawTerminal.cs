using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Sandbox.Terminal
{
    /// <summary>
    /// The local terminal in raw mode, as `docker exec -it` puts it: every key (arrows, Tab, Ctrl+C, Ctrl+D) goes to the
    /// sandbox as bytes and nothing is echoed or turned into a signal here. Disposing restores the settings it found.
    /// Unix only for now: Windows consoles need another API.
    /// </summary>
    public sealed class RawTerminal : IDisposable
    {
        readonly byte[] _saved;
        readonly int _wakeRead;
        readonly int _wakeWrite;
        readonly System.IO.Stream _output = Console.OpenStandardOutput();
        bool _disposed;
#if NET8_0_OR_GREATER
        readonly System.Runtime.InteropServices.PosixSignalRegistration _resizeSignal;
#endif

        /// <summary>Raised, on another thread, when the terminal's window changed size.</summary>
#pragma warning disable CS0067 // raised on net8.0 only; netstandard2.0 serves Windows PowerShell, where Enter-Sandbox refuses
        public event Action? Resized;
#pragma warning restore CS0067

        /// <summary>Why this process cannot enter a raw terminal, or null when it can.</summary>
        public static string? WhyNotInteractive()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                return "Enter-Sandbox does not support Windows consoles yet.";
            if (Console.IsInputRedirected || Libc.isatty(Libc.StandardInput) != 1)
                return "Enter-Sandbox needs an interactive terminal, and standard input is not one (it is redirected, or this is a job, CI or a host without a console).";
            return null;
        }

        public static RawTerminal Enter() => new RawTerminal();

        RawTerminal()
        {
            _saved = new byte[Libc.TermiosBufferSize];
            if (Libc.tcgetattr(Libc.StandardInput, _saved) != 0) throw new Win32Exception(Marshal.GetLastWin32Error(), "Cannot read the terminal's settings");
            var pipe = new int[2];
            if (Libc.pipe(pipe) != 0) throw new Win32Exception(Marshal.GetLastWin32Error(), "Cannot make a pipe");
            _wakeRead = pipe[0];
            _wakeWrite = pipe[1];
            var raw = (byte[])_saved.Clone();
            Libc.cfmakeraw(raw);
            if (Libc.tcsetattr(Libc.StandardInput, Libc.TcsaNow, raw) != 0)
            {
                var error = Marshal.GetLastWin32Error();
                Libc.close(_wakeRead);
                Libc.close(_wakeWrite);
                throw new Win32Exception(error, "Cannot put the terminal in raw mode");
            }
#if NET8_0_OR_GREATER
#pragma warning disable CA1416 // Windows never gets here: tcgetattr above has already failed there.
            _resizeSignal = System.Runtime.InteropServices.PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => Resized?.Invoke());
#pragma warning restore CA1416
#endif
        }

        /// <summary>The window's size in character cells.</summary>
        public (int Columns, int Rows) Size
        {
            get
            {
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                {
                    // row, col, xpixel, ypixel; Console.WindowWidth may still hold the size from before the last SIGWINCH.
                    var winsize = new ushort[4];
                    if (Libc.ioctlWindowSize(Libc.StandardOutput, new UIntPtr(Libc.LinuxGetWindowSize), winsize) == 0 && winsize[1] > 0)
                        return (winsize[1], winsize[0]);
                    if (Libc.ioctlWindowSize(Libc.StandardInput, new UIntPtr(Libc.LinuxGetWindowSize), winsize) == 0 && winsize[1] > 0)
                        return (winsize[1], winsize[0]);
                }
                return (Console.WindowWidth, Console.WindowHeight);
            }
        }

        /// <summary>Blocks until keys arrive (returns how many bytes) or <see cref="Wake"/> is called (returns 0).</summary>
        public int Read(byte[] buffer)
        {
            var fds = new[]
            {
                new Libc.PollFd { Fd = Libc.StandardInput, Events = Libc.PollIn },
                new Libc.PollFd { Fd = _wakeRead, Events = Libc.PollIn },
            };
            while (true)
            {
                fds[0].ReturnedEvents = 0;
                fds[1].ReturnedEvents = 0;
                if (Libc.poll(fds, 2, -1) < 0)
                {
                    var error = Marshal.GetLastWin32Error();
                    if (error == Libc.Interrupted) continue;
                    throw new Win32Exception(error, "Cannot wait for the terminal");
                }
                if (fds[1].ReturnedEvents != 0) return 0;
                if (fds[0].ReturnedEvents == 0) continue;
                var read = Libc.read(Libc.StandardInput, buffer, new IntPtr(buffer.Length)).ToInt64();
                if (read > 0) return (int)read;
                if (read == 0) return 0;
                var readError = Marshal.GetLastWin32Error();
                if (readError == Libc.Interrupted) continue;
                throw new Win32Exception(readError, "Cannot read the terminal");
            }
        }

        /// <summary>Writes the bytes to the terminal unchanged (the console stream is not buffered).</summary>
        public void Write(byte[] buffer, int count) => _output.Write(buffer, 0, count);

        /// <summary>Ends a <see cref="Read"/> that waits, from any thread.</summary>
        public void Wake() => Libc.write(_wakeWrite, new byte[] { 1 }, new IntPtr(1));

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
#if NET8_0_OR_GREATER
            _resizeSignal.Dispose();
#endif
            Libc.tcsetattr(Libc.StandardInput, Libc.TcsaNow, _saved);
            Libc.close(_wakeRead);
            Libc.close(_wakeWrite);
            _output.Dispose();
        }
    }
}
