using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using Renci.SshNet;
using Renci.SshNet.Common;
using Sandbox.Lifecycle;

namespace Sandbox.Endpoints.Ssh
{
    /// <summary>
    /// The SSH side of one endpoint, shared by every cmdlet of the process: each HTTP connection to the engine is an exec
    /// channel running 'docker system dial-stdio' on the remote host, on an SSH connection of its own (so that a slow
    /// reader of one holds back no other, see <see cref="BoundedPipeStream"/>); one more connection checks the host and
    /// carries the published ports' forwards.
    /// </summary>
    public sealed class SshSession : IDisposable
    {
        static readonly ConcurrentDictionary<string, SshSession> Sessions = new ConcurrentDictionary<string, SshSession>();
        static readonly string[] DefaultKeyFiles = { "id_ed25519", "id_ecdsa", "id_rsa" };

        readonly DockerEndpoint _endpoint;
        readonly object _gate = new object();
        SshClient? _client;
        string? _hostKeyProblem;
        string? _hostKeyHint;

        public string User { get; }
        public string Host { get; }
        public int Port { get; }

        SshSession(DockerEndpoint endpoint)
        {
            _endpoint = endpoint;
            var uri = endpoint.Uri;
            Host = uri.Host.Trim('[', ']');
            Port = uri.Port > 0 ? uri.Port : 22;
            User = endpoint.SshUser ?? (string.IsNullOrEmpty(uri.UserInfo) ? Environment.UserName : Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]));
        }

        public static SshSession For(DockerEndpoint endpoint) => Sessions.GetOrAdd(endpoint.CacheKey, _ => new SshSession(endpoint));

        public static void DisposeAll()
        {
            foreach (var session in Sessions.Values) session.Dispose();
            Sessions.Clear();
        }

        /// <summary>The connected client; connects (or reconnects after a drop) on first use.</summary>
        public SshClient Client
        {
            get
            {
                lock (_gate)
                {
                    if (_client != null && _client.IsConnected) return _client;
                    _client?.Dispose();
                    _client = Connect();
                    return _client;
                }
            }
        }

        /// <summary>
        /// A byte stream to the remote engine's socket. Starting 'docker system dial-stdio' on the remote host takes a few
        /// hundred milliseconds, and every exec uses up one connection (it is hijacked), so a couple of channels are kept
        /// started in advance and handed out at once.
        /// </summary>
        public Stream OpenEngineStream()
        {
            NoteUse();
            while (_standby.TryDequeue(out var ready))
            {
                if (ready.Stream.IsOpen && DateTime.UtcNow - ready.Opened < StandbyLifetime)
                {
                    RefillStandby();
                    return ready.Stream;
                }
                ready.Stream.Dispose();
            }
            _ = Client;     // the host is checked (and the error said) once, on the main connection
            var stream = OpenChannel();
            RefillStandby();
            return stream;
        }

        /// <summary>
        /// Two for occasional commands; eight while commands come back to back (a channel takes about as long to start as
        /// four commands take to run). Dropped after half a minute without use, so idle connections hold no processes.
        /// </summary>
        const int IdleStandbyChannels = 2;
        const int BusyStandbyChannels = 8;
        static readonly TimeSpan StandbyIdleTime = TimeSpan.FromSeconds(30);
        readonly Queue<DateTime> _recentUses = new Queue<DateTime>();
        DateTime _lastUse;
        Timer? _idleTimer;

        int StandbyChannels
        {
            get
            {
                lock (_recentUses) return _recentUses.Count >= 3 ? BusyStandbyChannels : IdleStandbyChannels;
            }
        }

        void NoteUse()
        {
            var now = DateTime.UtcNow;
            lock (_recentUses)
            {
                _lastUse = now;
                _recentUses.Enqueue(now);
                while (_recentUses.Count > 0 && now - _recentUses.Peek() > TimeSpan.FromSeconds(3)) _recentUses.Dequeue();
                _idleTimer ??= new Timer(_ => DropIfIdle(), null, StandbyIdleTime, TimeSpan.FromSeconds(10));
            }
        }

        void DropIfIdle()
        {
            lock (_recentUses)
            {
                if (DateTime.UtcNow - _lastUse < StandbyIdleTime) return;
                _idleTimer?.Dispose();
                _idleTimer = null;
            }
            DropStandby();
        }
        static readonly TimeSpan StandbyLifetime = TimeSpan.FromSeconds(50);
        readonly ConcurrentQueue<(SshChannelStream Stream, DateTime Opened)> _standby = new ConcurrentQueue<(SshChannelStream, DateTime)>();
        int _refilling;
        volatile bool _disposed;

        /// <summary>What a channel may hold that its reader has not read yet, before it holds back the engine.</summary>
        const int ChannelBufferBytes = 1 << 20;
        static readonly System.Reflection.PropertyInfo? OutputStreamProperty = typeof(SshCommand).GetProperty(nameof(SshCommand.OutputStream));

        SshChannelStream OpenChannel()
        {
            var client = Connect(checkDockerCli: false);
            try
            {
                var command = client.CreateCommand("docker system dial-stdio");
                BoundOutput(command);
                command.BeginExecute();
                return new SshChannelStream(client, command);
            }
            catch (Exception)
            {
                client.Dispose();
                throw;
            }
        }

        /// <summary>
        /// SSH.NET grants the sender more window as data arrives, not as it is read, and buffers it without limit; a bounded
        /// pipe holds the connection's receive thread instead. Set through the property's private setter: SSH.NET 2026.0.0
        /// makes the stream in the constructor and writes into whatever the property holds when data comes.
        /// </summary>
        static void BoundOutput(SshCommand command)
        {
            try { OutputStreamProperty?.SetValue(command, new BoundedPipeStream(ChannelBufferBytes)); }
            catch (Exception) { /* another SSH.NET: its own buffer, unbounded, still delivers every byte */ }
        }

        void RefillStandby()
        {
            if (Interlocked.Exchange(ref _refilling, 1) == 1) return;
            System.Threading.Tasks.Task.Run(() =>
            {
                try
                {
                    while (!_disposed && _standby.Count < StandbyChannels)
                    {
                        _standby.Enqueue((OpenChannel(), DateTime.UtcNow));
                        // A channel that was opening while Remove-Module disposed the session would stay connected.
                        if (_disposed) DropStandby();
                    }
                }
                catch (Exception) { /* the next request opens its own channel and reports what is wrong */ }
                finally { Interlocked.Exchange(ref _refilling, 0); }
            });
        }

        void DropStandby()
        {
            while (_standby.TryDequeue(out var ready)) ready.Stream.Dispose();
        }

        SshClient Connect(bool checkDockerCli = true)
        {
            var methods = new List<AuthenticationMethod>();
            if (_endpoint.SshPassword != null) methods.Add(new PasswordAuthenticationMethod(User, _endpoint.SshPassword));
            var keys = LoadKeys(out var keyProblems);
            if (keys.Count > 0) methods.Add(new PrivateKeyAuthenticationMethod(User, keys.ToArray()));
            if (methods.Count == 0)
                throw new SandboxException("SshAuthenticationFailed", SandboxErrorKind.PermissionDenied,
                    $"No way to log in to {Display}: no usable key in {SshFolder} and no -Credential.{keyProblems}", _endpoint.Host,
                    "Put a key (id_ed25519, id_ecdsa or id_rsa) in ~/.ssh, name one with -SshKeyPath, or pass -Credential.");

            var info = new ConnectionInfo(Host, Port, User, methods.ToArray()) { Timeout = TimeSpan.FromSeconds(15) };
            var client = new SshClient(info) { KeepAliveInterval = TimeSpan.FromSeconds(30) };
            client.HostKeyReceived += (_, e) => e.CanTrust = VerifyHostKey(e);
            _hostKeyProblem = null;
            try
            {
                client.Connect();
            }
            catch (Exception e)
            {
                client.Dispose();
                throw Translate(e, keyProblems);
            }

            if (!checkDockerCli) return client;
            using (var check = client.CreateCommand("command -v docker"))
            {
                check.CommandTimeout = TimeSpan.FromSeconds(15);
                check.Execute();
                if (check.ExitStatus != 0)
                {
                    client.Dispose();
                    throw new SandboxException("DockerCliNotFound", SandboxErrorKind.ObjectNotFound,
                        $"{Display} has no 'docker' command: sandboxes over ssh:// need the docker CLI on the remote host (it runs 'docker system dial-stdio').",
                        _endpoint.Host, "Install the docker CLI on the remote host and make sure it is on the PATH of non-interactive logins.");
                }
            }
            return client;
        }

        bool VerifyHostKey(HostKeyEventArgs e)
        {
            var files = new[] { Path.Combine(SshFolder, "known_hosts"), Path.Combine(SshFolder, "known_hosts2") };
            var verdict = KnownHosts.Load(files).Check(Host, Port, e.HostKey);
            var keyType = KnownHosts.KeyType(e.HostKey);
            var key = keyType + " " + KnownHosts.Fingerprint(e.HostKey);
            var name = Port == 22 ? Host : $"[{Host}]:{Port}";
            switch (verdict)
            {
                case HostKeyVerdict.Trusted:
                    return true;
                case HostKeyVerdict.Unknown:
                    _hostKeyProblem = $"The host key of {name} is not in {files[0]}: {key}. It was refused, as ssh would ask first.";
                    _hostKeyHint = $"If that fingerprint is right, trust it with: ssh-keyscan -p {Port} -t {KeyTypeArgument(keyType)} {Host} >> {files[0]} (or connect once with ssh -p {Port} {User}@{Host}).";
                    return false;
                case HostKeyVerdict.Revoked:
                    _hostKeyProblem = $"The host key of {name} ({key}) is marked @revoked in {files[0]}.";
                    _hostKeyHint = "Do not connect; ask the host's administrator.";
                    return false;
                default:
                    _hostKeyProblem = $"THE HOST KEY OF {name} HAS CHANGED: it is now {key}, which {files[0]} does not list for this host. Someone may be intercepting the connection.";
                    _hostKeyHint = $"If the host was really re-installed, remove the old key with: ssh-keygen -R '{name}' -f {files[0]}, then trust the new one.";
                    return false;
            }
        }

        static string KeyTypeArgument(string keyType) =>
            keyType.Contains("ed25519") ? "ed25519" : keyType.Contains("ecdsa") ? "ecdsa" : "rsa";

        List<IPrivateKeySource> LoadKeys(out string problems)
        {
            var keys = new List<IPrivateKeySource>();
            var notes = new List<string>();
            var files = _endpoint.SshIdentityFile != null
                ? new[] { _endpoint.SshIdentityFile }
                : DefaultKeyFiles.Select(f => Path.Combine(SshFolder, f)).Where(File.Exists).ToArray();
            foreach (var file in files)
            {
                if (!File.Exists(file))
                {
                    throw new SandboxException("SshKeyNotFound", SandboxErrorKind.ObjectNotFound, $"SSH key file '{file}' does not exist.", file);
                }
                try { keys.Add(new PrivateKeyFile(file)); }
                catch (SshPassPhraseNullOrEmptyException) { notes.Add($"{file} needs a passphrase (use ssh-agent-free keys or -Credential)"); }
                catch (Exception e) when (e is SshException || e is InvalidOperationException || e is ArgumentException || e is NotSupportedException)
                {
                    if (_endpoint.SshIdentityFile != null)
                        throw new SandboxException("SshKeyInvalid", SandboxErrorKind.InvalidData, $"SSH key file '{file}' cannot be used: {e.Message}", file);
                    notes.Add($"{file}: {e.Message}");
                }
            }
            problems = notes.Count == 0 ? "" : " Skipped keys: " + string.Join("; ", notes) + ".";
            return keys;
        }

        Exception Translate(Exception e, string keyProblems)
        {
            if (_hostKeyProblem != null)
                return new SandboxException("SshHostKeyNotTrusted", SandboxErrorKind.SecurityError, _hostKeyProblem, _endpoint.Host, _hostKeyHint, e);
            switch (e)
            {
                case SshAuthenticationException:
                    return new SandboxException("SshAuthenticationFailed", SandboxErrorKind.PermissionDenied,
                        $"{Display} refused the login: {e.Message.TrimEnd('.')}.{keyProblems}", _endpoint.Host,
                        "Check the user name, that your public key is in the remote ~/.ssh/authorized_keys, or pass -Credential / -SshKeyPath.", e);
                case SocketException:
                case SshOperationTimeoutException:
                case SshConnectionException:
                case IOException:
                case TimeoutException:
                    return new SandboxException("DockerEndpointUnavailable", SandboxErrorKind.ConnectionError,
                        $"Cannot reach the SSH server {Display}: {e.Message}", _endpoint.Host, "Check the host name and port, and that sshd is running there.", e);
                default:
                    return e;
            }
        }

        string Display => $"{User}@{Host}:{Port}";

        string SshFolder => Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh");

        /// <summary>Forwards a local port to a port on the remote host's loopback; the local port is the same number when free.</summary>
        public ForwardedPortLocal Forward(int remotePort)
        {
            var client = Client;
            ForwardedPortLocal forward;
            try
            {
                forward = new ForwardedPortLocal("127.0.0.1", (uint)remotePort, "127.0.0.1", (uint)remotePort);
                client.AddForwardedPort(forward);
                forward.Start();
            }
            catch (Exception)
            {
                foreach (var stale in client.ForwardedPorts.OfType<ForwardedPortLocal>().Where(f => !f.IsStarted).ToList()) client.RemoveForwardedPort(stale);
                forward = new ForwardedPortLocal("127.0.0.1", 0, "127.0.0.1", (uint)remotePort);
                client.AddForwardedPort(forward);
                forward.Start();
            }
            return forward;
        }

        public void CloseForward(ForwardedPortLocal forward)
        {
            try { forward.Stop(); } catch (Exception) { /* already closed with the connection */ }
            lock (_gate)
            {
                try { _client?.RemoveForwardedPort(forward); } catch (Exception) { }
            }
            forward.Dispose();
        }

        public void Dispose()
        {
            _disposed = true;
            lock (_recentUses) { _idleTimer?.Dispose(); _idleTimer = null; }
            DropStandby();
            lock (_gate)
            {
                _client?.Dispose();
                _client = null;
            }
        }
    }
}
