using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Endpoints.Ssh;
using Xunit;

namespace Sandbox.Tests;

/// <summary>OpenSSH known_hosts semantics as KnownHosts implements them; hashed entries are made here with real HMAC-SHA1.</summary>
public sealed class KnownHostsTests : IDisposable
{
    const string Ed = "ssh-ed25519";
    const string Rsa = "ssh-rsa";
    static readonly byte[] KeyA = KeyBlob(Ed, 1);
    static readonly byte[] KeyB = KeyBlob(Ed, 2);
    static readonly byte[] RsaKey = KeyBlob(Rsa, 3);

    readonly string _temp = Directory.CreateTempSubdirectory("sandbox-knownhosts-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    /// <summary>A key blob shaped like SSH's wire format (string type, then key bytes); the content only has to differ.</summary>
    static byte[] KeyBlob(string type, int seed)
    {
        var typeBytes = Encoding.ASCII.GetBytes(type);
        var body = new byte[32];
        new Random(seed).NextBytes(body);
        using var ms = new MemoryStream();
        void WriteString(byte[] s)
        {
            ms.Write(new[] { (byte)(s.Length >> 24), (byte)(s.Length >> 16), (byte)(s.Length >> 8), (byte)s.Length });
            ms.Write(s);
        }
        WriteString(typeBytes);
        WriteString(body);
        return ms.ToArray();
    }

    static string Line(string hosts, string type, byte[] key, string? marker = null) =>
        (marker != null ? marker + " " : "") + $"{hosts} {type} {Convert.ToBase64String(key)}";

    /// <summary>An OpenSSH hashed host field: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).</summary>
    static string Hashed(string name, byte[]? salt = null)
    {
        salt ??= RandomNumberGenerator.GetBytes(20);
        using var hmac = new HMACSHA1(salt);
        return $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hmac.ComputeHash(Encoding.ASCII.GetBytes(name)))}";
    }

    static KnownHosts With(params string[] lines)
    {
        var known = new KnownHosts();
        foreach (var line in lines) known.Add(line);
        return known;
    }

    [Fact]
    public void Plain_host_is_port_22_only()
    {
        var known = With(Line("example.com", Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("example.com", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("example.com", 2222, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("other.example.com", 22, KeyA));
    }

    [Fact]
    public void Bracketed_host_and_port()
    {
        var known = With(Line("[example.com]:2222", Ed, KeyA), Line("[::1]:2200", Ed, KeyB));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("example.com", 2222, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("example.com", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("example.com", 2223, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("::1", 2200, KeyB));
    }

    [Fact]
    public void Host_names_match_without_regard_to_case()
    {
        var known = With(Line("Build.Example.COM", Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("build.example.com", 22, KeyA));
    }

    [Theory]
    [InlineData("[10.0.0.5]:2222", "10.0.0.5", 2222)]
    [InlineData("10.0.0.5", "10.0.0.5", 22)]
    [InlineData("[localhost]:2222", "localhost", 2222)]
    public void Hashed_entry(string hashedName, string host, int port)
    {
        var known = With(Line(Hashed(hashedName), Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check(host, port, KeyA));
        Assert.Equal(HostKeyVerdict.Changed, known.Check(host, port, KeyB));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check(host, port == 22 ? 2222 : 22, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("10.0.0.6", port, KeyA));
    }

    [Fact]
    public void Hashed_entries_with_different_salts_for_one_host()
    {
        var known = With(Line(Hashed("[h]:2222"), Rsa, RsaKey), Line(Hashed("[h]:2222"), Ed, KeyA), Line(Hashed("[other]:2222"), Ed, KeyB));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h", 2222, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h", 2222, RsaKey));
        Assert.Equal(HostKeyVerdict.Changed, known.Check("h", 2222, KeyB));
    }

    [Fact]
    public void Hashed_entry_with_a_broken_field_is_ignored()
    {
        var known = With($"|1|notbase64|x {Ed} {Convert.ToBase64String(KeyA)}", $"|1|abc {Ed} {Convert.ToBase64String(KeyA)}", Line("h", Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h", 22, KeyA));
    }

    [Fact]
    public void Comma_separated_host_list()
    {
        var known = With(Line("a.example,b.example,10.1.1.1,[c.example]:2222", Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("a.example", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("b.example", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("10.1.1.1", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("c.example", 2222, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("c.example", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("d.example", 22, KeyA));
    }

    [Theory]
    [InlineData("*.example.com", "x.example.com", 22, true)]
    [InlineData("*.example.com", "a.b.example.com", 22, true)]
    [InlineData("*.example.com", "example.com", 22, false)]
    [InlineData("*.example.com", "x.example.org", 22, false)]
    [InlineData("host?.lan", "host1.lan", 22, true)]
    [InlineData("host?.lan", "host10.lan", 22, false)]
    [InlineData("10.0.0.*", "10.0.0.77", 22, true)]
    [InlineData("[*.example.com]:2222", "x.example.com", 2222, true)]
    [InlineData("[*.example.com]:2222", "x.example.com", 22, false)]
    [InlineData("a.b", "aXb", 22, false)]   // '.' is literal, not a regex wildcard
    public void Wildcard_patterns(string pattern, string host, int port, bool matches)
    {
        var known = With(Line(pattern, Ed, KeyA));
        Assert.Equal(matches ? HostKeyVerdict.Trusted : HostKeyVerdict.Unknown, known.Check(host, port, KeyA));
    }

    [Theory]
    [InlineData("*.example.com,!bad.example.com")]
    [InlineData("!bad.example.com,*.example.com")]
    public void Negated_pattern_excludes_a_host_whatever_its_place(string patterns)
    {
        var known = With(Line(patterns, Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("good.example.com", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("bad.example.com", 22, KeyA));
    }

    [Fact]
    public void Negation_alone_matches_nothing()
    {
        var known = With(Line("!bad.example.com", Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("good.example.com", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("bad.example.com", 22, KeyA));
    }

    [Fact]
    public void Revoked_key_is_refused_even_when_also_listed_as_trusted()
    {
        var known = With(Line("h.example", Ed, KeyA), Line("h.example", Ed, KeyA, "@revoked"));
        Assert.Equal(HostKeyVerdict.Revoked, known.Check("h.example", 22, KeyA));
    }

    [Fact]
    public void Revoked_key_in_a_hashed_entry()
    {
        var known = With(Line(Hashed("[h]:2222"), Ed, KeyA, "@revoked"));
        Assert.Equal(HostKeyVerdict.Revoked, known.Check("h", 2222, KeyA));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("h", 2222, KeyB));
    }

    [Fact]
    public void Revocation_of_another_key_does_not_hide_the_trusted_one()
    {
        var known = With(Line("h.example", Ed, KeyA), Line("h.example", Ed, KeyB, "@revoked"));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h.example", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Revoked, known.Check("h.example", 22, KeyB));
    }

    [Fact]
    public void Same_type_with_another_key_is_Changed()
    {
        var known = With(Line("[h]:2222", Ed, KeyA));
        Assert.Equal(HostKeyVerdict.Changed, known.Check("h", 2222, KeyB));
    }

    [Fact]
    public void A_second_trusted_key_of_the_same_type_is_Trusted_not_Changed()
    {
        var known = With(Line("h", Ed, KeyA), Line("h", Ed, KeyB));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h", 22, KeyB));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h", 22, KeyA));
    }

    [Fact]
    public void Only_a_key_of_another_type_is_Unknown()
    {
        var known = With(Line("h", Rsa, RsaKey));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("h", 22, KeyA));
    }

    [Fact]
    public void The_same_key_bytes_under_another_type_name_are_not_trusted()
    {
        var known = With(Line("h", Rsa, KeyA));
        Assert.NotEqual(HostKeyVerdict.Trusted, known.Check("h", 22, KeyA));
    }

    [Fact]
    public void Key_type_is_the_name_inside_the_blob()
    {
        Assert.Equal(Ed, KnownHosts.KeyType(KeyA));
        Assert.Equal(Rsa, KnownHosts.KeyType(RsaKey));
        Assert.Equal("", KnownHosts.KeyType(Array.Empty<byte>()));
        Assert.Equal("", KnownHosts.KeyType(new byte[] { 0, 0, 0, 9, (byte)'s', (byte)'s', (byte)'h' }));
        Assert.Equal("", KnownHosts.KeyType(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 1 }));
    }

    [Fact]
    public void A_blob_too_short_to_name_its_type_is_never_trusted()
    {
        var junk = new byte[] { 1, 2 };
        var known = With(Line("h", Ed, junk));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("h", 22, junk));
    }

    [Fact]
    public void Cert_authority_lines_do_not_trust_a_plain_host_key()
    {
        var known = With(Line("*.example.com", Ed, KeyA, "@cert-authority"));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("x.example.com", 22, KeyA));
    }

    [Fact]
    public void Comments_blank_lines_tabs_trailing_comments_and_junk()
    {
        var known = With(
            "# a comment",
            "",
            "   ",
            "onlyonefield",
            $"h1 {Ed} !!!not-base64!!!",
            $"h2\t{Ed}\t{Convert.ToBase64String(KeyA)}",
            $"  h3 {Ed} {Convert.ToBase64String(KeyA)} user@laptop and more words");
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("h1", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h2", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("h3", 22, KeyA));
    }

    [Fact]
    public void Load_reads_every_existing_file_and_skips_missing_ones()
    {
        var first = Path.Combine(_temp, "known_hosts");
        var second = Path.Combine(_temp, "known_hosts2");
        File.WriteAllLines(first, new[] { Line("one", Ed, KeyA) });
        File.WriteAllText(second, Line(Hashed("[two]:2222"), Ed, KeyB) + "\r\n");
        var known = KnownHosts.Load(new[] { first, Path.Combine(_temp, "missing"), second });
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("one", 22, KeyA));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("two", 2222, KeyB));
        Assert.Equal(HostKeyVerdict.Unknown, KnownHosts.Load(new[] { Path.Combine(_temp, "missing") }).Check("one", 22, KeyA));
    }

    [Fact]
    public void Fingerprint_is_SHA256_and_unpadded_base64()
    {
        // sha256("abc") = ba7816bf...15ad; base64 "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=".
        Assert.Equal("SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", KnownHosts.Fingerprint(Encoding.ASCII.GetBytes("abc")));
        Assert.Matches("^SHA256:[A-Za-z0-9+/]{43}$", KnownHosts.Fingerprint(KeyA));
        Assert.NotEqual(KnownHosts.Fingerprint(KeyA), KnownHosts.Fingerprint(KeyB));
    }

    // --- against OpenSSH's own tools, when ssh-keygen is installed --------------------------------------------------

    static string SshKeygen() => Prerequisites.OnPath("ssh-keygen") ?? throw new FileNotFoundException("ssh-keygen is not on PATH");

    static string Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr}");
        return stdout;
    }

    (string Type, byte[] Blob, string PublicKeyFile) NewKey(string type)
    {
        var keygen = SshKeygen();
        var file = Path.Combine(_temp, "key_" + type + "_" + Guid.NewGuid().ToString("n"));
        Run(keygen, "-q", "-t", type, "-N", "", "-C", "test", "-f", file);
        var fields = File.ReadAllText(file + ".pub").Split(' ');
        return (fields[0], Convert.FromBase64String(fields[1]), file + ".pub");
    }

    [TheoryNeeding(Prerequisite.SshKeygen)]
    [InlineData("ed25519")]
    [InlineData("ecdsa")]
    [InlineData("rsa")]
    public void Fingerprint_matches_ssh_keygen(string type)
    {
        var key = NewKey(type);
        // "256 SHA256:xxxx test (ED25519)"
        var expected = Run(SshKeygen(), "-l", "-E", "sha256", "-f", key.PublicKeyFile).Split(' ')[1];
        Assert.StartsWith("SHA256:", expected);
        Assert.Equal(expected, KnownHosts.Fingerprint(key.Blob));
    }

    [TheoryNeeding(Prerequisite.SshKeygen)]
    [InlineData("ed25519")]
    [InlineData("ecdsa")]
    [InlineData("rsa")]
    public void Each_key_type_is_trusted_by_its_line_as_ssh_keygen_writes_it(string type)
    {
        // An RSA server signs with rsa-sha2-512 or rsa-sha2-256, but its key, and its known_hosts line, say ssh-rsa.
        var key = NewKey(type);
        Assert.Equal(key.Type, KnownHosts.KeyType(key.Blob));
        var known = With(Line("[10.0.0.5]:2223", key.Type, key.Blob), Line(Hashed("[10.0.0.6]:2223"), key.Type, key.Blob));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("10.0.0.5", 2223, key.Blob));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("10.0.0.6", 2223, key.Blob));
        Assert.Equal(HostKeyVerdict.Changed, known.Check("10.0.0.5", 2223, NewKey(type).Blob));
    }

    [FactNeeding(Prerequisite.SshKeygen)]
    public void Reads_a_file_hashed_by_ssh_keygen_H()
    {
        var key = NewKey("ed25519");
        var file = Path.Combine(_temp, "known_hosts");
        File.WriteAllLines(file, new[]
        {
            $"[127.0.0.1]:2222 {key.Type} {Convert.ToBase64String(key.Blob)}",
            $"build.example.com {key.Type} {Convert.ToBase64String(key.Blob)}",
        });
        Run(SshKeygen(), "-H", "-f", file);
        var text = File.ReadAllText(file);
        Assert.DoesNotContain("127.0.0.1", text);
        Assert.StartsWith("|1|", text);

        var known = KnownHosts.Load(new[] { file });
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("127.0.0.1", 2222, key.Blob));
        Assert.Equal(HostKeyVerdict.Trusted, known.Check("build.example.com", 22, key.Blob));
        Assert.Equal(HostKeyVerdict.Unknown, known.Check("127.0.0.1", 22, key.Blob));
        Assert.Equal(HostKeyVerdict.Changed, known.Check("127.0.0.1", 2222, KeyBlob(key.Type, 9)));
    }

    [FactNeeding(Prerequisite.SshKeygen)]
    public void Agrees_with_ssh_keygen_F_on_which_names_a_hashed_file_lists()
    {
        var key = NewKey("ed25519");
        var file = Path.Combine(_temp, "known_hosts");
        File.WriteAllText(file, Line(Hashed("[box.lan]:2200"), key.Type, key.Blob) + "\n");
        // ssh-keygen -F finds our hand-made hashed entry: the HMAC is OpenSSH's.
        var found = Run(SshKeygen(), "-F", "[box.lan]:2200", "-f", file);
        Assert.Contains(Convert.ToBase64String(key.Blob), found);
        Assert.Equal(HostKeyVerdict.Trusted, KnownHosts.Load(new[] { file }).Check("box.lan", 2200, key.Blob));
    }
}
