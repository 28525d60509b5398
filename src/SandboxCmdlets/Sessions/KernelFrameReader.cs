using System;

namespace Sandbox.Sessions
{
    /// <summary>Cuts the kernel's byte stream into <see cref="KernelFrames"/> frames, however the engine's reads split them.</summary>
    public sealed class KernelFrameReader
    {
        /// <summary>A frame: its kind and its payload (valid only during the call).</summary>
        public delegate void FrameHandler(byte kind, byte[] payload, int offset, int count);

        readonly FrameHandler _onFrame;
        readonly byte[] _header = new byte[KernelFrames.HeaderLength];
        int _headerFilled;
        byte[] _payload = new byte[4096];
        int _payloadLength;
        int _payloadFilled;

        public KernelFrameReader(FrameHandler onFrame) => _onFrame = onFrame;

        public void Write(byte[] buffer, int offset, int count)
        {
            var end = offset + count;
            while (offset < end)
            {
                if (_headerFilled < _header.Length)
                {
                    var take = Math.Min(_header.Length - _headerFilled, end - offset);
                    Buffer.BlockCopy(buffer, offset, _header, _headerFilled, take);
                    _headerFilled += take;
                    offset += take;
                    if (_headerFilled < _header.Length) return;
                    _payloadLength = (_header[1] << 24) | (_header[2] << 16) | (_header[3] << 8) | _header[4];
                    if (_payloadLength < 0) throw new InvalidOperationException("The kernel sent a frame longer than 2 GiB: its protocol is broken.");
                    _payloadFilled = 0;
                    // A frame that arrived whole in this read is handed over in place, without a copy.
                    if (end - offset >= _payloadLength)
                    {
                        Complete(buffer, offset);
                        offset += _payloadLength;
                        continue;
                    }
                    if (_payload.Length < _payloadLength) _payload = new byte[Math.Max(_payloadLength, _payload.Length * 2)];
                }
                var part = Math.Min(_payloadLength - _payloadFilled, end - offset);
                Buffer.BlockCopy(buffer, offset, _payload, _payloadFilled, part);
                _payloadFilled += part;
                offset += part;
                if (_payloadFilled == _payloadLength) Complete(_payload, 0);
            }
        }

        void Complete(byte[] payload, int offset)
        {
            _headerFilled = 0;
            _onFrame(_header[0], payload, offset, _payloadLength);
        }
    }
}
