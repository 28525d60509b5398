using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Endpoints.Ssh
{

    /// <summary>OpenSSH's known_hosts: plain and hashed (|1|salt|hash) host patterns, [host]:port, negation, @revoked.</summary>
    public sealed class KnownHosts
    {
        readonly List<Entry> _entries = new List<Entry>();

        sealed class Entry
        {
            public string[] Patterns = Array.Empty<string>();
            public byte[]? HashedSalt;
            public byte[]? HashedHash;
            public string KeyType = "";
            public byte[] Key = Array.Empty<byte>();
            public bool Revoked;
            public bool CertAuthority;
        }

        public static KnownHosts Load(IEnumerable<string> files)
        {
            var known = new KnownHosts();
            foreach (var file in files.Where(File.Exists))
                foreach (var line in File.ReadAllLines(file)) known.Add(line);
            return known;
        }

        public void Add(string line)
        {
            var text = line.Trim();
            if (text.Length == 0 || text.StartsWith("#", StringComparison.Ordinal)) return;
            var fields = text.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            var entry = new Entry();
            int i = 0;
            if (fields[0].StartsWith("@", StringComparison.Ordinal))
            {
                entry.Revoked = fields[0] == "@revoked";
                entry.CertAuthority = fields[0] == "@cert-authority";
                i = 1;
            }
            if (fields.Length < i + 3) return;
            var hosts = fields[i];
            if (hosts.StartsWith("|1|", StringComparison.Ordinal))
            {
                // A broken line is skipped, as OpenSSH does, rather than spoiling every other entry.
                var parts = hosts.Split('|');
                if (parts.Length != 4) return;
                try
                {
                    entry.HashedSalt = Convert.FromBase64String(parts[2]);
                    entry.HashedHash = Convert.FromBase64String(parts[3]);
                }
                catch (FormatException) { return; }
            }
            else entry.Patterns = hosts.Split(',');
            entry.KeyType = fields[i + 1];
            try { entry.Key = Convert.FromBase64String(fields[i + 2]); }
            catch (FormatException) { return; }
            _entries.Add(entry);
        }

        /// <summary>
        /// The verdict on a host key, by its type and bytes. The type is the one written in the key blob (ssh-rsa), as
        /// known_hosts lists it, never the signature algorithm the connection negotiated (rsa-sha2-512 for that key).
        /// </summary>
        public HostKeyVerdict Check(string host, int port, byte[] key)
        {
            var keyType = KeyType(key);
            var name = port == 22 ? host : $"[{host}]:{port}";
            var matching = _entries.Where(e => !e.CertAuthority && Matches(e, name)).ToList();
            if (matching.Any(e => e.Revoked && e.Key.SequenceEqual(key))) return HostKeyVerdict.Revoked;
            if (matching.Any(e => !e.Revoked && e.KeyType == keyType && e.Key.SequenceEqual(key))) return HostKeyVerdict.Trusted;
            if (matching.Any(e => !e.Revoked && e.KeyType == keyType)) return HostKeyVerdict.Changed;
            return HostKeyVerdict.Unknown;
        }

        static bool Matches(Entry entry, string name)
        {
            if (entry.HashedSalt != null)
            {
                using var hmac = new HMACSHA1(entry.HashedSalt);
                return hmac.ComputeHash(Encoding.ASCII.GetBytes(name)).SequenceEqual(entry.HashedHash!);
            }
            var matched = false;
            foreach (var raw in entry.Patterns)
            {
                var negated = raw.StartsWith("!", StringComparison.Ordinal);
                var pattern = negated ? raw.Substring(1) : raw;
                if (!Glob(pattern, name)) continue;
                if (negated) return false;
                matched = true;
            }
            return matched;
        }

        static bool Glob(string pattern, string text)
        {
            var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$";
            return System.Text.RegularExpressions.Regex.IsMatch(text, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        }

        /// <summary>The type name that opens an SSH public key blob (a uint32 length, then the name), or "" when there is none.</summary>
        public static string KeyType(byte[] key)
        {
            if (key.Length < 4) return "";
            var length = (key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3];
            return length <= 0 || length > key.Length - 4 ? "" : Encoding.ASCII.GetString(key, 4, length);
        }

        /// <summary>OpenSSH's way of showing a key: SHA256:base64 without padding.</summary>
        public static string Fingerprint(byte[] key)
        {
            using var sha = SHA256.Create();
            return "SHA256:" + Convert.ToBase64String(sha.ComputeHash(key)).TrimEnd('=');
        }
    }
}
