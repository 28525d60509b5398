using System;
using System.Text;

namespace Sandbox.Exec
{
    /// <summary>Turns a byte stream into lines, keeping multi-byte characters split across reads intact.</summary>
    public sealed class LineSplitter
    {
        readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();
        readonly StringBuilder _pending = new StringBuilder();
        readonly Action<string> _onLine;
        readonly StringBuilder? _capture;
        readonly int _captureLimit;
        char[] _chars = new char[8192];

        public bool Truncated { get; private set; }

        public LineSplitter(Action<string> onLine, StringBuilder? capture = null, int captureLimit = int.MaxValue)
        {
            _onLine = onLine; _capture = capture; _captureLimit = captureLimit;
        }

        public void Write(byte[] buffer, int offset, int count)
        {
            var needed = _decoder.GetCharCount(buffer, offset, count);
            if (needed > _chars.Length) _chars = new char[needed];
            var n = _decoder.GetChars(buffer, offset, count, _chars, 0);
            Capture(_chars, n);
            int start = 0;
            for (int i = 0; i < n; i++)
            {
                if (_chars[i] != '\n') continue;
                _pending.Append(_chars, start, i - start);
                Emit();
                start = i + 1;
            }
            _pending.Append(_chars, start, n - start);
        }

        public void Flush()
        {
            var n = _decoder.GetChars(Array.Empty<byte>(), 0, 0, _chars, 0, flush: true);
            Capture(_chars, n);
            _pending.Append(_chars, 0, n);
            if (_pending.Length > 0) Emit();
        }

        void Emit()
        {
            if (_pending.Length > 0 && _pending[_pending.Length - 1] == '\r') _pending.Length--;
            _onLine(_pending.ToString());
            _pending.Clear();
        }

        void Capture(char[] chars, int count)
        {
            if (_capture == null || count == 0) return;
            var room = _captureLimit - _capture.Length;
            if (room <= 0) { Truncated = true; return; }
            if (count > room) { Truncated = true; count = room; }
            _capture.Append(chars, 0, count);
        }
    }
}
