using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Files
{

    /// <summary>Reads ustar, GNU and PAX entries from a forward-only stream (what the engine's archive API sends).</summary>
    public sealed class TarReader
    {
        const int Block = 512;
        readonly Stream _input;
        readonly byte[] _header = new byte[Block];
        long _unread;   // bytes of the current entry's data not yet consumed
        long _padding;

        public TarReader(Stream input) => _input = input;

        public async Task<TarEntry?> NextAsync(CancellationToken cancel)
        {
            await SkipAsync(_unread + _padding, cancel).ConfigureAwait(false);
            _unread = _padding = 0;
            string? longName = null, longLink = null;
            Dictionary<string, string>? pax = null;
            while (true)
            {
                if (!await ReadBlockAsync(cancel).ConfigureAwait(false) || IsZeroBlock()) return null;
                VerifyChecksum();
                var type = (char)_header[156];
                var size = ReadSize(124);
                if (type == 'L' || type == 'K' || type == 'x' || type == 'g')
                {
                    var data = await ReadDataAsync(size, cancel).ConfigureAwait(false);
                    if (type == 'L') longName = CString(data, 0, data.Length);
                    else if (type == 'K') longLink = CString(data, 0, data.Length);
                    else if (type == 'x') pax = ParsePax(data);
                    continue;
                }

                var name = longName ?? (pax != null && pax.TryGetValue("path", out var p) ? p : HeaderName());
                var link = longLink ?? (pax != null && pax.TryGetValue("linkpath", out var l) ? l : CString(_header, 157, 100));
                if (pax != null && pax.TryGetValue("size", out var paxSize)) size = long.Parse(paxSize, CultureInfo.InvariantCulture);
                var entry = new TarEntry
                {
                    Name = name,
                    Size = size,
                    Mode = (int)ReadOctal(100, 8),
                    Modified = UnixTime.Epoch.AddSeconds(ReadOctal(136, 12)),
                    Type = type switch
                    {
                        '0' or '\0' or '7' => TarEntryType.File,
                        '5' => TarEntryType.Directory,
                        '2' => TarEntryType.Symlink,
                        '1' => TarEntryType.HardLink,
                        _ => TarEntryType.Other,
                    },
                    LinkTarget = type == '1' || type == '2' ? link : null,
                };
                if (entry.Type == TarEntryType.Directory || entry.Type == TarEntryType.Symlink || entry.Type == TarEntryType.HardLink) size = entry.Type == TarEntryType.HardLink ? 0 : size;
                _unread = size;
                _padding = (Block - size % Block) % Block;
                return entry;
            }
        }

        /// <summary>Copies the current entry's data to <paramref name="destination"/>.</summary>
        public async Task CopyDataAsync(Stream destination, Action<long>? written, CancellationToken cancel)
        {
            var buffer = new byte[81920];
            while (_unread > 0)
            {
                var read = await _input.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, _unread), cancel).ConfigureAwait(false);
                if (read == 0) throw new EndOfStreamException("The archive ended in the middle of an entry.");
                await destination.WriteAsync(buffer, 0, read, cancel).ConfigureAwait(false);
                _unread -= read;
                written?.Invoke(read);
            }
        }

        string HeaderName()
        {
            var name = CString(_header, 0, 100);
            var magic = Encoding.ASCII.GetString(_header, 257, 5);
            var prefix = magic == "ustar" ? CString(_header, 345, 155) : "";
            return prefix.Length > 0 ? prefix + "/" + name : name;
        }

        async Task<byte[]> ReadDataAsync(long size, CancellationToken cancel)
        {
            if (size < 0 || size > 1 << 20) throw new InvalidDataException("An archive header extension is larger than 1 MiB.");
            var data = new byte[size];
            await ReadExactlyAsync(data, (int)size, cancel).ConfigureAwait(false);
            await SkipAsync((Block - size % Block) % Block, cancel).ConfigureAwait(false);
            return data;
        }

        static Dictionary<string, string> ParsePax(byte[] data)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            int pos = 0;
            while (pos < data.Length)
            {
                int space = Array.IndexOf(data, (byte)' ', pos);
                if (space < 0) break;
                if (!int.TryParse(Encoding.ASCII.GetString(data, pos, space - pos), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length <= 0 || pos + length > data.Length)
                    throw new InvalidDataException("The archive has a malformed PAX header.");
                var record = Encoding.UTF8.GetString(data, space + 1, pos + length - space - 2);
                var eq = record.IndexOf('=');
                if (eq > 0) result[record.Substring(0, eq)] = record.Substring(eq + 1);
                pos += length;
            }
            return result;
        }

        async Task<bool> ReadBlockAsync(CancellationToken cancel)
        {
            int total = 0;
            while (total < Block)
            {
                var read = await _input.ReadAsync(_header, total, Block - total, cancel).ConfigureAwait(false);
                if (read == 0)
                {
                    if (total == 0) return false;
                    throw new EndOfStreamException("The archive ended in the middle of a header.");
                }
                total += read;
            }
            return true;
        }

        async Task ReadExactlyAsync(byte[] buffer, int count, CancellationToken cancel)
        {
            int total = 0;
            while (total < count)
            {
                var read = await _input.ReadAsync(buffer, total, count - total, cancel).ConfigureAwait(false);
                if (read == 0) throw new EndOfStreamException("The archive ended early.");
                total += read;
            }
        }

        async Task SkipAsync(long count, CancellationToken cancel)
        {
            var buffer = new byte[Math.Min(81920, Math.Max(1, count))];
            while (count > 0)
            {
                var read = await _input.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, count), cancel).ConfigureAwait(false);
                if (read == 0) throw new EndOfStreamException("The archive ended early.");
                count -= read;
            }
        }

        bool IsZeroBlock()
        {
            foreach (var b in _header) if (b != 0) return false;
            return true;
        }

        void VerifyChecksum()
        {
            long sum = 0;
            for (int i = 0; i < Block; i++) sum += i >= 148 && i < 156 ? (byte)' ' : _header[i];
            if (ReadOctal(148, 8) != sum) throw new InvalidDataException("The archive has a corrupt header (bad checksum).");
        }

        long ReadSize(int offset)
        {
            if ((_header[offset] & 0x80) != 0)
            {
                long value = 0;
                for (int i = 1; i < 12; i++) value = (value << 8) | _header[offset + i];
                return value;
            }
            return ReadOctal(offset, 12);
        }

        long ReadOctal(int offset, int length)
        {
            long value = 0;
            for (int i = offset; i < offset + length; i++)
            {
                var c = _header[i];
                if (c == 0 || c == ' ') { if (value > 0) break; continue; }
                if (c < '0' || c > '7') throw new InvalidDataException("The archive has a corrupt header (bad number).");
                value = value * 8 + (c - '0');
            }
            return value;
        }

        static string CString(byte[] data, int offset, int length)
        {
            int end = offset;
            while (end < offset + length && data[end] != 0) end++;
            return Encoding.UTF8.GetString(data, offset, end - offset);
        }
    }
}
