using System;
using System.Runtime.InteropServices;

namespace Sandbox.Terminal
{
    /// <summary>
    /// The few libc calls a raw terminal needs. termios is handled as an opaque buffer (its layout differs between Linux and
    /// macOS) and made raw with cfmakeraw, so no flag values are copied here.
    /// </summary>
    static class Libc
    {
        const string Name = "libc";

        public const int StandardInput = 0;
        public const int StandardOutput = 1;
        public const int TcsaNow = 0;
        public const short PollIn = 0x1;
        public const int Interrupted = 4; // EINTR
        /// <summary>Bigger than any platform's struct termios.</summary>
        public const int TermiosBufferSize = 256;
        public const uint LinuxGetWindowSize = 0x5413; // TIOCGWINSZ

        [DllImport(Name, SetLastError = true)] public static extern int isatty(int fd);
        [DllImport(Name, SetLastError = true)] public static extern int tcgetattr(int fd, byte[] termios);
        [DllImport(Name, SetLastError = true)] public static extern int tcsetattr(int fd, int optionalActions, byte[] termios);
        [DllImport(Name)] public static extern void cfmakeraw(byte[] termios);
        [DllImport(Name, SetLastError = true)] public static extern int pipe(int[] fds);
        [DllImport(Name, SetLastError = true)] public static extern int close(int fd);
        [DllImport(Name, SetLastError = true)] public static extern IntPtr read(int fd, byte[] buffer, IntPtr count);
        [DllImport(Name, SetLastError = true)] public static extern IntPtr write(int fd, byte[] buffer, IntPtr count);
        [DllImport(Name, SetLastError = true)] public static extern int poll([In, Out] PollFd[] fds, uint count, int timeoutMs);
        /// <summary>ioctl is variadic; a fixed pointer argument passes the same way on Linux's x64 and arm64 ABIs (not on Apple's).</summary>
        [DllImport(Name, SetLastError = true, EntryPoint = "ioctl")] public static extern int ioctlWindowSize(int fd, UIntPtr request, ushort[] winsize);

        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd
        {
            public int Fd;
            public short Events;
            public short ReturnedEvents;
        }
    }
}
