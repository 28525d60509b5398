using System;
using System.Globalization;
using System.Text;

namespace Sandbox.Sessions
{
    /// <summary>
    /// The kernel protocol: every message is one kind byte, a big-endian 32-bit length and that many bytes. Only the
    /// driver writes the kernel's side (on a descriptor the user's code does not write to), so output that looks like
    /// a frame is just payload. Requests carry "timeoutMs\ncode"; the driver answers with Ready (its pid) once, then
    /// any Out/Err chunks and one Done ("status\ntext": 0 ran, 1 raised with the traceback, 2 interrupted).
    /// </summary>
    public static class KernelFrames
    {
        public const byte Ready = (byte)'R';
        public const byte Out = (byte)'O';
        public const byte Err = (byte)'E';
        public const byte Done = (byte)'D';
        public const byte Execute = (byte)'X';
        public const int HeaderLength = 5;

        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        public static byte[] ExecuteRequest(string code, TimeSpan timeout)
        {
            var prefix = ((long)Math.Max(0, timeout.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "\n";
            var length = Utf8.GetByteCount(prefix) + Utf8.GetByteCount(code);
            var frame = new byte[HeaderLength + length];
            frame[0] = Execute;
            WriteLength(frame, length);
            var at = HeaderLength + Utf8.GetBytes(prefix, 0, prefix.Length, frame, HeaderLength);
            Utf8.GetBytes(code, 0, code.Length, frame, at);
            return frame;
        }

        static void WriteLength(byte[] frame, int length)
        {
            frame[1] = (byte)(length >> 24); frame[2] = (byte)(length >> 16); frame[3] = (byte)(length >> 8); frame[4] = (byte)length;
        }

        /// <summary>A Done payload as its status and its text (the traceback, or what interrupted the code).</summary>
        public static KernelStatus ParseDone(byte[] payload, int offset, int count, out string text)
        {
            var newline = Array.IndexOf(payload, (byte)'\n', offset, count);
            var statusEnd = newline < 0 ? offset + count : newline;
            var status = statusEnd > offset ? payload[offset] : (byte)'1';
            text = newline < 0 ? "" : Utf8.GetString(payload, newline + 1, offset + count - newline - 1);
            switch (status)
            {
                case (byte)'0': return KernelStatus.Completed;
                case (byte)'2': return KernelStatus.Interrupted;
                default: return KernelStatus.Raised;
            }
        }
    }
}
