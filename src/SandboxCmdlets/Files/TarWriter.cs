using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Files
{
    /// <summary>Writes a ustar stream entry by entry (GNU long names, base-256 sizes), never holding a file in memory.</summary>
    public sealed class TarWriter
    {
        const int Block = 512;
        readonly Stream _output;
        readonly byte[] _buffer = new byte[81920];

        public TarWriter(Stream output) => _output = output;

        /// <summary>The numeric owner written into every entry (the engine keeps it when asked to copy owners).</summary>
        public int OwnerUid { get; set; }
        public int OwnerGid { get; set; }

        public Task WriteDirectoryAsync(string name, int mode, DateTime modified, CancellationToken cancel) =>
            WriteHeaderAsync(name.TrimEnd('/') + "/", mode, modified, 0, '5', null, cancel);

        public Task WriteSymlinkAsync(string name, string target, DateTime modified, CancellationToken cancel) =>
            WriteHeaderAsync(name, 0x1FF, modified, 0, '2', target, cancel);

        public async Task WriteFileAsync(string name, int mode, DateTime modified, Stream content, long size, Action<long>? written, CancellationToken cancel)
        {
            await WriteHeaderAsync(name, mode, modified, size, '0', null, cancel).ConfigureAwait(false);
            long remaining = size;
            while (remaining > 0)
            {
                var read = await content.ReadAsync(_buffer, 0, (int)Math.Min(_buffer.Length, remaining), cancel).ConfigureAwait(false);
                if (read == 0) throw new IOException($"'{name}' became shorter while it was being copied.");
                await _output.WriteAsync(_buffer, 0, read, cancel).ConfigureAwait(false);
                remaining -= read;
                written?.Invoke(read);
            }
            await PadAsync(size, cancel).ConfigureAwait(false);
        }

        public async Task FinishAsync(CancellationToken cancel)
        {
            await _output.WriteAsync(new byte[Block * 2], 0, Block * 2, cancel).ConfigureAwait(false);
            await _output.FlushAsync(cancel).ConfigureAwait(false);
        }

        async Task WriteHeaderAsync(string name, int mode, DateTime modified, long size, char type, string? linkTarget, CancellationToken cancel)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            if (nameBytes.Length > 100)
            {
                // GNU long name: a pseudo-entry whose data is the real name; Docker's archive/tar reads it.
                await WriteRawHeaderAsync(Encoding.ASCII.GetBytes("././@LongLink"), 0, UnixTime.Epoch, nameBytes.Length + 1, 'L', null, cancel).ConfigureAwait(false);
                await _output.WriteAsync(nameBytes, 0, nameBytes.Length, cancel).ConfigureAwait(false);
                await _output.WriteAsync(new byte[1], 0, 1, cancel).ConfigureAwait(false);
                await PadAsync(nameBytes.Length + 1, cancel).ConfigureAwait(false);
            }
            var linkBytes = linkTarget == null ? null : Encoding.UTF8.GetBytes(linkTarget);
            if (linkBytes != null && linkBytes.Length > 100)
            {
                await WriteRawHeaderAsync(Encoding.ASCII.GetBytes("././@LongLink"), 0, UnixTime.Epoch, linkBytes.Length + 1, 'K', null, cancel).ConfigureAwait(false);
                await _output.WriteAsync(linkBytes, 0, linkBytes.Length, cancel).ConfigureAwait(false);
                await _output.WriteAsync(new byte[1], 0, 1, cancel).ConfigureAwait(false);
                await PadAsync(linkBytes.Length + 1, cancel).ConfigureAwait(false);
            }
            await WriteRawHeaderAsync(nameBytes, mode, modified, size, type, linkBytes, cancel).ConfigureAwait(false);
        }

        Task WriteRawHeaderAsync(byte[] name, int mode, DateTime modified, long size, char type, byte[]? link, CancellationToken cancel)
        {
            var header = new byte[Block];
            Array.Copy(name, header, Math.Min(100, name.Length));
            WriteOctal(header, 100, 8, mode & 0xFFF);
            WriteOctal(header, 108, 8, OwnerUid);
            WriteOctal(header, 116, 8, OwnerGid);
            WriteSize(header, 124, size);
            var seconds = (long)Math.Max(0, (modified.ToUniversalTime() - UnixTime.Epoch).TotalSeconds);
            WriteOctal(header, 136, 12, seconds);
            header[156] = (byte)type;
            if (link != null) Array.Copy(link, 0, header, 157, Math.Min(100, link.Length));
            Encoding.ASCII.GetBytes("ustar\0").CopyTo(header, 257);
            header[263] = (byte)'0'; header[264] = (byte)'0';
            for (int i = 148; i < 156; i++) header[i] = (byte)' ';
            long sum = 0;
            foreach (var b in header) sum += b;
            WriteOctal(header, 148, 7, sum);
            header[155] = (byte)' ';
            return _output.WriteAsync(header, 0, Block, cancel);
        }

        Task PadAsync(long size, CancellationToken cancel)
        {
            var pad = (int)((Block - size % Block) % Block);
            return pad == 0 ? Task.CompletedTask : _output.WriteAsync(new byte[pad], 0, pad, cancel);
        }

        static void WriteOctal(byte[] header, int offset, int length, long value)
        {
            var text = Convert.ToString(value, 8).PadLeft(length - 1, '0');
            Encoding.ASCII.GetBytes(text, 0, length - 1, header, offset);
            header[offset + length - 1] = 0;
        }

        static void WriteSize(byte[] header, int offset, long size)
        {
            if (size < 8L * 1024 * 1024 * 1024) { WriteOctal(header, offset, 12, size); return; }
            header[offset] = 0x80;
            for (int i = 11; i >= 4; i--) { header[offset + i] = (byte)(size & 0xFF); size >>= 8; }
        }
    }
}
