using System.Diagnostics;
using System.Text;
using Sandbox.Files;
using Xunit;
using Xunit.Abstractions;

namespace Sandbox.Tests;

public sealed class TarTests : IDisposable
{
    static readonly DateTime When = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
    readonly ITestOutputHelper _output;
    readonly string _temp = Directory.CreateTempSubdirectory("sandbox-tar-").FullName;

    public TarTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    sealed record Read(TarEntry Entry, byte[] Data);

    static async Task<List<Read>> ReadAll(Stream stream)
    {
        var reader = new TarReader(stream);
        var result = new List<Read>();
        TarEntry? entry;
        while ((entry = await reader.NextAsync(CancellationToken.None)) != null)
        {
            var data = new MemoryStream();
            await reader.CopyDataAsync(data, null, CancellationToken.None);
            result.Add(new Read(entry, data.ToArray()));
        }
        return result;
    }

    static byte[] Bytes(int count, int seed = 1)
    {
        var data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }

    static async Task WriteFile(TarWriter tar, string name, byte[] data, int mode = 0x1A4) =>
        await tar.WriteFileAsync(name, mode, When, new MemoryStream(data), data.Length, null, CancellationToken.None);

    [Fact]
    public async Task Round_trip_files_dirs_links_long_and_utf8_names()
    {
        var longName = "deep/" + string.Join("/", Enumerable.Repeat("segment-of-a-long-path", 8)) + "/file.txt";
        Assert.True(Encoding.UTF8.GetByteCount(longName) > 100);
        var longLink = string.Join("/", Enumerable.Repeat("..", 60)) + "/target";
        var utf8 = "ünïcödé/文件-😀.txt";
        var big = Bytes(1 << 20);
        var small = Encoding.UTF8.GetBytes("hello\n");

        var stream = new MemoryStream();
        var tar = new TarWriter(stream);
        await tar.WriteDirectoryAsync("dir", 0x1ED, When, CancellationToken.None);
        await WriteFile(tar, "dir/hello.txt", small, mode: 0x1ED);
        await WriteFile(tar, "dir/empty", Array.Empty<byte>());
        await WriteFile(tar, "dir/big.bin", big);
        await WriteFile(tar, longName, small);
        await WriteFile(tar, utf8, small);
        await tar.WriteSymlinkAsync("dir/link", "hello.txt", When, CancellationToken.None);
        await tar.WriteSymlinkAsync("dir/longlink", longLink, When, CancellationToken.None);
        await WriteFile(tar, "after.txt", small);
        await tar.FinishAsync(CancellationToken.None);

        Assert.Equal(0, stream.Length % 512);
        stream.Position = 0;
        var entries = await ReadAll(stream);
        Assert.Equal(new[] { "dir/", "dir/hello.txt", "dir/empty", "dir/big.bin", longName, utf8, "dir/link", "dir/longlink", "after.txt" },
            entries.Select(e => e.Entry.Name));

        var dir = entries[0].Entry;
        Assert.Equal(TarEntryType.Directory, dir.Type);
        Assert.Equal(0x1ED, dir.Mode);
        Assert.Equal(When, dir.Modified);

        Assert.Equal(TarEntryType.File, entries[1].Entry.Type);
        Assert.Equal(small, entries[1].Data);
        Assert.Equal(0x1ED, entries[1].Entry.Mode);
        Assert.Equal(small.Length, entries[1].Entry.Size);

        Assert.Equal(0L, entries[2].Entry.Size);
        Assert.Empty(entries[2].Data);

        Assert.Equal(big.Length, entries[3].Entry.Size);
        Assert.Equal(big, entries[3].Data);

        Assert.Equal(small, entries[4].Data);
        Assert.Equal(small, entries[5].Data);

        Assert.Equal(TarEntryType.Symlink, entries[6].Entry.Type);
        Assert.Equal("hello.txt", entries[6].Entry.LinkTarget);
        Assert.Empty(entries[6].Data);
        Assert.Equal(longLink, entries[7].Entry.LinkTarget);

        Assert.Equal(small, entries[8].Data);
        Assert.Null(entries[8].Entry.LinkTarget);
    }

    [Fact]
    public async Task Names_at_the_100_byte_boundary_and_long_utf8_names()
    {
        var exactly100 = new string('a', 96) + ".txt";
        var just101 = new string('b', 97) + ".txt";
        var utf8Long = string.Concat(Enumerable.Repeat("文", 40)) + ".txt";   // 44 characters, 124 bytes
        Assert.Equal(100, Encoding.UTF8.GetByteCount(exactly100));
        Assert.Equal(101, Encoding.UTF8.GetByteCount(just101));
        Assert.True(utf8Long.Length < 100 && Encoding.UTF8.GetByteCount(utf8Long) > 100);

        var stream = new MemoryStream();
        var tar = new TarWriter(stream);
        foreach (var name in new[] { exactly100, just101, utf8Long })
            await WriteFile(tar, name, Encoding.UTF8.GetBytes(name));
        await tar.FinishAsync(CancellationToken.None);
        stream.Position = 0;
        var entries = await ReadAll(stream);
        Assert.Equal(new[] { exactly100, just101, utf8Long }, entries.Select(e => e.Entry.Name));
        Assert.All(entries, e => Assert.Equal(e.Entry.Name, Encoding.UTF8.GetString(e.Data)));
    }

    [Fact]
    public async Task Base256_size_is_read()
    {
        // A header for a file larger than 8 GiB (what TarWriter and GNU tar write): the size field in base-256.
        var stream = new MemoryStream();
        await WriteFile(new TarWriter(stream), "huge.bin", Array.Empty<byte>());
        var header = stream.ToArray()[..512];
        const long size = (8L << 30) + 12345;
        Array.Clear(header, 124, 12);
        header[124] = 0x80;
        for (int i = 11, shift = 0; i >= 4; i--, shift += 8) header[124 + i] = (byte)(size >> shift);
        for (int i = 148; i < 156; i++) header[i] = (byte)' ';
        var sum = header.Sum(b => (long)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        var entry = await new TarReader(new MemoryStream(header)).NextAsync(CancellationToken.None);
        Assert.Equal(size, entry!.Size);
    }

    [Fact]
    public async Task Entries_can_be_skipped_without_reading_their_data()
    {
        var stream = new MemoryStream();
        var tar = new TarWriter(stream);
        await WriteFile(tar, "a.bin", Bytes(1000, 1));
        await WriteFile(tar, "b.bin", Bytes(70_000, 2));
        await WriteFile(tar, "c.txt", Encoding.ASCII.GetBytes("c"));
        await tar.FinishAsync(CancellationToken.None);
        stream.Position = 0;

        var reader = new TarReader(stream);
        Assert.Equal("a.bin", (await reader.NextAsync(CancellationToken.None))!.Name);
        Assert.Equal("b.bin", (await reader.NextAsync(CancellationToken.None))!.Name);
        Assert.Equal("c.txt", (await reader.NextAsync(CancellationToken.None))!.Name);
        var data = new MemoryStream();
        await reader.CopyDataAsync(data, null, CancellationToken.None);
        Assert.Equal("c", Encoding.ASCII.GetString(data.ToArray()));
        Assert.Null(await reader.NextAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Written_progress_counts_every_byte()
    {
        var data = Bytes(200_000);
        var stream = new MemoryStream();
        long written = 0;
        await new TarWriter(stream).WriteFileAsync("f", 0x1A4, When, new MemoryStream(data), data.Length, n => written += n, CancellationToken.None);
        Assert.Equal(data.Length, written);
    }

    [Fact]
    public async Task Source_shorter_than_its_size_is_an_error()
    {
        var tar = new TarWriter(new MemoryStream());
        await Assert.ThrowsAsync<IOException>(() =>
            tar.WriteFileAsync("f", 0x1A4, When, new MemoryStream(new byte[10]), 20, null, CancellationToken.None));
    }

    [Fact]
    public async Task Empty_stream_has_no_entries()
    {
        Assert.Null(await new TarReader(new MemoryStream()).NextAsync(CancellationToken.None));
        Assert.Null(await new TarReader(new MemoryStream(new byte[1024])).NextAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Corrupt_checksum_is_InvalidDataException()
    {
        var stream = new MemoryStream();
        var tar = new TarWriter(stream);
        await WriteFile(tar, "file.txt", Encoding.ASCII.GetBytes("x"));
        await tar.FinishAsync(CancellationToken.None);
        var bytes = stream.ToArray();
        bytes[0] ^= 0x20;   // 'f' -> 'F': the name no longer matches the checksum
        await Assert.ThrowsAsync<InvalidDataException>(() => new TarReader(new MemoryStream(bytes)).NextAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Truncated_archive_is_an_error()
    {
        var stream = new MemoryStream();
        var tar = new TarWriter(stream);
        await WriteFile(tar, "file.bin", Bytes(5000));
        var bytes = stream.ToArray()[..1500];   // header + part of the data
        var reader = new TarReader(new MemoryStream(bytes));
        Assert.NotNull(await reader.NextAsync(CancellationToken.None));
        await Assert.ThrowsAsync<EndOfStreamException>(() => reader.CopyDataAsync(new MemoryStream(), null, CancellationToken.None));

        var header = new TarReader(new MemoryStream(stream.ToArray()[..300]));
        await Assert.ThrowsAsync<EndOfStreamException>(() => header.NextAsync(CancellationToken.None));
    }

    // --- archives made by the system's tar, as the engine would send them ---

    [TheoryNeeding(Prerequisite.Tar)]
    [InlineData("gnu")]
    [InlineData("pax")]
    [InlineData("ustar")]
    public async Task Reads_archives_made_by_system_tar(string format)
    {
        var source = Path.Combine(_temp, "src");
        // > 100 bytes: a GNU 'L' entry, a PAX path record, or (ustar) the 155-byte prefix field.
        var longDir = string.Join("/", Enumerable.Repeat("a-rather-long-folder-name", 5));
        var files = new Dictionary<string, byte[]>
        {
            ["top.txt"] = Encoding.UTF8.GetBytes("top\n"),
            ["sub/empty"] = Array.Empty<byte>(),
            ["sub/big.bin"] = Bytes(300_000, 7),
            [longDir + "/with-a-long-file-name-as-well.txt"] = Encoding.UTF8.GetBytes("deep\n"),
            ["ünïcödé-文件.txt"] = Encoding.UTF8.GetBytes("utf8\n"),
        };
        foreach (var (name, data) in files)
        {
            var path = Path.Combine(source, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
        }
        File.CreateSymbolicLink(Path.Combine(source, "sub", "link"), "../top.txt");
        Assert.True(Encoding.UTF8.GetByteCount(longDir + "/with-a-long-file-name-as-well.txt") > 100);

        var archive = Path.Combine(_temp, $"made-by-tar.{format}.tar");
        RunTar($"--format={format} -cf \"{archive}\" -C \"{source}\" .");

        await using var stream = File.OpenRead(archive);
        var entries = await ReadAll(stream);
        var byName = entries.ToDictionary(e => e.Entry.Name.StartsWith("./") ? e.Entry.Name[2..] : e.Entry.Name);
        foreach (var (name, data) in files)
        {
            Assert.True(byName.ContainsKey(name), $"'{name}' missing; read: {string.Join(", ", byName.Keys)}");
            Assert.Equal(TarEntryType.File, byName[name].Entry.Type);
            Assert.Equal(data.Length, byName[name].Entry.Size);
            Assert.Equal(data, byName[name].Data);
        }
        Assert.Equal(TarEntryType.Directory, byName["sub/"].Entry.Type);
        Assert.Equal(TarEntryType.Symlink, byName["sub/link"].Entry.Type);
        Assert.Equal("../top.txt", byName["sub/link"].Entry.LinkTarget);
        var top = byName["top.txt"].Entry;
        Assert.Equal(Convert.ToInt32("644", 8), top.Mode & 0x1FF);
        Assert.InRange(top.Modified, DateTime.UtcNow.AddMinutes(-10), DateTime.UtcNow.AddMinutes(1));
    }

    [FactNeeding(Prerequisite.Tar)]
    public async Task System_tar_reads_what_TarWriter_wrote()
    {
        var longName = string.Join("/", Enumerable.Repeat("long-folder-name-number", 6)) + "/file.txt";
        var archive = Path.Combine(_temp, "ours.tar");
        await using (var file = File.Create(archive))
        {
            var tar = new TarWriter(file);
            await tar.WriteDirectoryAsync("dir", 0x1ED, When, CancellationToken.None);
            await WriteFile(tar, "dir/a.txt", Encoding.UTF8.GetBytes("a\n"));
            await WriteFile(tar, longName, Encoding.UTF8.GetBytes("long\n"));
            await tar.WriteSymlinkAsync("dir/link", "a.txt", When, CancellationToken.None);
            await tar.FinishAsync(CancellationToken.None);
        }
        var dest = Path.Combine(_temp, "out");
        Directory.CreateDirectory(dest);
        RunTar($"-xf \"{archive}\" -C \"{dest}\"");
        Assert.Equal("a\n", File.ReadAllText(Path.Combine(dest, "dir", "a.txt")));
        Assert.Equal("long\n", File.ReadAllText(Path.Combine(dest, longName)));
        Assert.Equal("a.txt", new FileInfo(Path.Combine(dest, "dir", "link")).LinkTarget);
    }

    void RunTar(string arguments)
    {
        var start = new ProcessStartInfo("tar", arguments) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "tar did not finish");
        _output.WriteLine($"tar {arguments} -> {process.ExitCode} {stderr}");
        Assert.True(process.ExitCode == 0, $"tar {arguments} failed: {stderr}");
    }
}
