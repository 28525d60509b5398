using System;
using System.Text;

namespace Sandbox.Sessions
{
    /// <summary>
    /// Splits one stream of a session's shell (stdout or stderr) into a command's output and the end marker the shell prints
    /// after it: "\n" + prefix + nonce + ":" + exit status + "\n". The newline before the marker is the shell's, so it is
    /// taken off, and output without a final newline comes through unchanged. Text that looks like a marker but lacks the
    /// command's nonce is output; bytes that come between commands (a background job's) wait for the next command.
    /// </summary>
    sealed class SessionFrameParser
    {
        public const string MarkerPrefix = "__SANDBOX_SESSION_END_";
        /// <summary>What this keeps between commands at most; a background job that writes more between commands loses the rest.</summary>
        const int BetweenCommandsLimit = 1 << 20;

        byte[] _held = new byte[4096];
        int _heldCount;
        byte[]? _marker;

        /// <summary>Whether a command's marker is still awaited.</summary>
        public bool Active => _marker != null;

        public static string Marker(string nonce) => "\n" + MarkerPrefix + nonce + ":";

        public void Begin(string nonce) => _marker = Encoding.ASCII.GetBytes(Marker(nonce));

        /// <summary>
        /// Takes bytes read from the stream and hands the command's output to <paramref name="output"/>; returns the exit status
        /// once the command's marker is complete, else null.
        /// </summary>
        public int? Write(byte[] buffer, int offset, int count, Action<byte[], int, int> output)
        {
            if (_marker == null)
            {
                Hold(buffer, offset, Math.Min(count, BetweenCommandsLimit - _heldCount));
                return null;
            }
            Hold(buffer, offset, count);
            return Scan(output);
        }

        void Hold(byte[] buffer, int offset, int count)
        {
            if (count <= 0) return;
            if (_heldCount + count > _held.Length)
            {
                var bigger = new byte[Math.Max(_held.Length * 2, _heldCount + count)];
                Buffer.BlockCopy(_held, 0, bigger, 0, _heldCount);
                _held = bigger;
            }
            Buffer.BlockCopy(buffer, offset, _held, _heldCount, count);
            _heldCount += count;
        }

        int? Scan(Action<byte[], int, int> output)
        {
            var marker = _marker!;
            var at = Find(marker);
            if (at < 0)
            {
                // Keep what could be the start of the marker, hand over the rest.
                var keep = PartialMarkerAtEnd(marker);
                Emit(_heldCount - keep, output);
                return null;
            }
            var digitsStart = at + marker.Length;
            var end = Array.IndexOf(_held, (byte)'\n', digitsStart, _heldCount - digitsStart);
            if (end < 0)
            {
                Emit(at, output);
                return null;
            }
            var status = 0;
            for (var i = digitsStart; i < end; i++)
            {
                var digit = _held[i] - '0';
                if (digit < 0 || digit > 9) break;
                status = status * 10 + digit;
            }
            Emit(at, output);
            Drop(end + 1 - at);
            _marker = null;
            return status;
        }

        int Find(byte[] marker)
        {
            var start = 0;
            while (start <= _heldCount - marker.Length)
            {
                var at = Array.IndexOf(_held, marker[0], start, _heldCount - marker.Length + 1 - start);
                if (at < 0) return -1;
                var i = 1;
                while (i < marker.Length && _held[at + i] == marker[i]) i++;
                if (i == marker.Length) return at;
                start = at + 1;
            }
            return -1;
        }

        int PartialMarkerAtEnd(byte[] marker)
        {
            for (var keep = Math.Min(marker.Length - 1, _heldCount); keep > 0; keep--)
            {
                var from = _heldCount - keep;
                if (_held[from] != marker[0]) continue;
                var i = 1;
                while (i < keep && _held[from + i] == marker[i]) i++;
                if (i == keep) return keep;
            }
            return 0;
        }

        void Emit(int count, Action<byte[], int, int> output)
        {
            if (count <= 0) return;
            output(_held, 0, count);
            Drop(count);
        }

        void Drop(int count)
        {
            _heldCount -= count;
            if (_heldCount > 0) Buffer.BlockCopy(_held, count, _held, 0, _heldCount);
        }
    }
}
