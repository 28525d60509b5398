using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class DockerEndpointParseTests
{
    [Fact]
    public void Unix_socket()
    {
        var e = DockerEndpoint.Parse("unix:///var/run/docker.sock");
        Assert.Equal(EndpointKind.Unix, e.Kind);
        Assert.Equal("unix:///var/run/docker.sock", e.Host);
        Assert.Equal("/var/run/docker.sock", e.Uri.AbsolutePath);
        Assert.True(e.IsLocal);
        Assert.False(e.UsesTls);
        Assert.Equal("-DockerHost", e.Source);
    }

    [Fact]
    public void Bare_path_is_a_unix_socket()
    {
        var e = DockerEndpoint.Parse("/run/user/1000/docker.sock");
        Assert.Equal(EndpointKind.Unix, e.Kind);
        Assert.Equal("unix:///run/user/1000/docker.sock", e.Host);
    }

    [Fact]
    public void Tcp_without_port_is_2375_plain()
    {
        var e = DockerEndpoint.Parse("tcp://127.0.0.5");
        Assert.Equal(EndpointKind.Tcp, e.Kind);
        Assert.Equal("tcp://127.0.0.5:2375", e.Host);
        Assert.False(e.UsesTls);
        Assert.False(e.IsLocal);
    }

    [Theory]
    [InlineData("tcp://10.0.0.5:2375")]
    [InlineData("tcp://docker.example.com")]
    public void Plain_tcp_to_another_host_is_refused(string host)
    {
        var e = Assert.Throws<SandboxException>(() => DockerEndpoint.Parse(host));
        Assert.Equal("InsecureDockerHost", e.ErrorId);
        Assert.Equal(SandboxErrorKind.SecurityError, e.Kind);
        Assert.Contains("DOCKER_CERT_PATH", e.RecommendedAction);
        Assert.Contains("http://", e.RecommendedAction);
    }

    [Fact]
    public void Http_scheme_asks_for_plain_tcp_to_another_host()
    {
        var e = DockerEndpoint.Parse("http://10.0.0.5");
        Assert.Equal("tcp://10.0.0.5:2375", e.Host);
        Assert.False(e.UsesTls);
    }

    [Fact]
    public void Tcp_without_port_is_2376_with_tls()
    {
        var e = DockerEndpoint.Parse("tcp://docker.example.com", tlsCertPath: "/certs", tlsVerify: true);
        Assert.Equal("tcp://docker.example.com:2376", e.Host);
        Assert.True(e.UsesTls);
        Assert.True(e.TlsVerify);
        Assert.Equal("/certs", e.TlsCertPath);
    }

    [Fact]
    public void Tcp_with_port_keeps_it()
    {
        Assert.Equal("tcp://127.0.0.1:12345", DockerEndpoint.Parse("tcp://127.0.0.1:12345").Host);
        Assert.Equal("tcp://127.0.0.1:2376", DockerEndpoint.Parse("tcp://127.0.0.1:2376", tlsCertPath: "/c").Host);
    }

    [Fact]
    public void Http_and_https_are_tcp()
    {
        var http = DockerEndpoint.Parse("http://h:2375");
        Assert.Equal(EndpointKind.Tcp, http.Kind);
        Assert.Equal("tcp://h:2375", http.Host);
        var https = DockerEndpoint.Parse("https://h:2376", tlsCertPath: "/c");
        Assert.Equal(EndpointKind.Tcp, https.Kind);
        Assert.Equal("tcp://h:2376", https.Host);
        Assert.True(https.UsesTls);
    }

    [Theory]
    [InlineData("http://h:80", "tcp://h:80")]
    [InlineData("https://127.0.0.1:443", "tcp://127.0.0.1:443")]
    public void Explicit_port_equal_to_the_scheme_default_is_kept(string host, string expected)
    {
        // System.Uri reports an explicit :80/:443 as IsDefaultPort, which must not turn into 2375/2376.
        Assert.Equal(expected, DockerEndpoint.Parse(host).Host);
    }

    [Fact]
    public void Ssh_with_user_and_port()
    {
        var e = DockerEndpoint.Parse("ssh://user@host:2222");
        Assert.Equal(EndpointKind.Ssh, e.Kind);
        Assert.Equal("ssh://user@host:2222", e.Host);
        Assert.Equal("host", e.Uri.Host);
        Assert.Equal(2222, e.Uri.Port);
        Assert.Equal("user", e.Uri.UserInfo);
        Assert.False(e.IsLocal);
    }

    [Fact]
    public void Named_pipe()
    {
        if (!OperatingSystem.IsWindows())
        {
            var refused = Assert.Throws<SandboxException>(() => DockerEndpoint.Parse("npipe:////./pipe/docker_engine"));
            Assert.Equal("InvalidDockerHost", refused.ErrorId);
            Assert.Contains("only on Windows", refused.Message);
            return;
        }
        var e = DockerEndpoint.Parse("npipe:////./pipe/docker_engine");
        Assert.Equal(EndpointKind.NamedPipe, e.Kind);
        Assert.True(e.IsLocal);
    }

    [Fact]
    public void Api_version_and_source_are_kept()
    {
        var e = DockerEndpoint.Parse("unix:///x.sock", "DOCKER_HOST", apiVersion: new Version(1, 41));
        Assert.Equal(new Version(1, 41), e.ApiVersion);
        Assert.Equal("DOCKER_HOST", e.Source);
    }

    [Fact]
    public void Cache_key_differs_by_tls()
    {
        var plain = DockerEndpoint.Parse("http://h:2376");
        var tls = DockerEndpoint.Parse("tcp://h:2376", tlsCertPath: "/c", tlsVerify: true);
        Assert.Equal(plain.Host, tls.Host);
        Assert.NotEqual(plain.CacheKey, tls.CacheKey);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("foo")]
    [InlineData("ftp://x")]
    [InlineData("tcp://")]
    [InlineData("unix://")]
    [InlineData("ssh://")]
    [InlineData("http://")]
    public void Invalid_hosts(string host)
    {
        var e = Assert.Throws<SandboxException>(() => DockerEndpoint.Parse(host));
        Assert.Equal("InvalidDockerHost", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
    }
}

public sealed class EndpointResolverTests : IDisposable
{
    readonly string _temp = Directory.CreateTempSubdirectory("sandbox-tests-").FullName;
    readonly Dictionary<string, string?> _env = new(StringComparer.Ordinal);

    public EndpointResolverTests()
    {
        // An empty home and config folder, so nothing of the machine's own docker setup leaks in.
        _env["HOME"] = Path.Combine(_temp, "home");
        _env["DOCKER_CONFIG"] = Path.Combine(_temp, "config");
        Directory.CreateDirectory(_env["HOME"]!);
        Directory.CreateDirectory(_env["DOCKER_CONFIG"]!);
    }

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    EndpointResolver Resolver => new(name => _env.TryGetValue(name, out var v) ? v : null);

    string Config => _env["DOCKER_CONFIG"]!;

    string AddContext(string name, string host, bool withTls = false, bool skipVerify = false, string? configDir = null)
    {
        var config = configDir ?? Config;
        var id = EndpointResolver.ContextFolderName(name);
        var meta = Path.Combine(config, "contexts", "meta", id);
        Directory.CreateDirectory(meta);
        File.WriteAllText(Path.Combine(meta, "meta.json"),
            System.Text.Json.JsonSerializer.Serialize(new
            {
                Name = name,
                Metadata = new { },
                Endpoints = new { docker = new { Host = host, SkipTLSVerify = skipVerify } },
            }));
        var tls = Path.Combine(config, "contexts", "tls", id, "docker");
        if (withTls)
        {
            Directory.CreateDirectory(tls);
            File.WriteAllText(Path.Combine(tls, "ca.pem"), "");
        }
        return tls;
    }

    [Fact]
    public void Context_folder_name_is_sha256_hex_of_the_name()
    {
        // sha256("default") as the docker CLI stores it.
        Assert.Equal("37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f", EndpointResolver.ContextFolderName("default"));
        Assert.Matches("^[0-9a-f]{64}$", EndpointResolver.ContextFolderName("remote"));
    }

    [Fact]
    public void Default_socket_without_any_setting()
    {
        var e = Resolver.Resolve(null);
        Assert.Equal(DockerEndpoint.DefaultHost, e.Host);
        Assert.Equal("unix:///var/run/docker.sock", e.Host);
        Assert.Equal("default", e.Source);
        Assert.Null(e.ApiVersion);
    }

    [Fact]
    public void Explicit_host_wins_over_everything()
    {
        _env["DOCKER_HOST"] = "http://10.9.9.9:2375";
        _env["DOCKER_CONTEXT"] = "nope";
        var e = Resolver.Resolve("unix:///tmp/explicit.sock");
        Assert.Equal("unix:///tmp/explicit.sock", e.Host);
        Assert.Equal("-DockerHost", e.Source);
    }

    [Fact]
    public void Blank_explicit_host_is_an_error_not_the_default()
    {
        _env["DOCKER_HOST"] = "http://10.9.9.9:2375";
        Assert.Equal("InvalidDockerHost", Assert.Throws<SandboxException>(() => Resolver.Resolve("  ")).ErrorId);
    }

    [Fact]
    public void Docker_host_variable()
    {
        _env["DOCKER_HOST"] = "http://10.9.9.9:2375";
        var e = Resolver.Resolve(null);
        Assert.Equal("tcp://10.9.9.9:2375", e.Host);
        Assert.Equal("DOCKER_HOST", e.Source);
        Assert.False(e.UsesTls);
    }

    [Fact]
    public void Docker_host_wins_over_context()
    {
        AddContext("remote", "tcp://10.1.1.1:2376");
        _env["DOCKER_CONTEXT"] = "remote";
        _env["DOCKER_HOST"] = "unix:///tmp/env.sock";
        Assert.Equal("unix:///tmp/env.sock", Resolver.Resolve(null).Host);
    }

    [Fact]
    public void Tls_verify_and_cert_path()
    {
        _env["DOCKER_HOST"] = "tcp://10.9.9.9";
        _env["DOCKER_TLS_VERIFY"] = "1";
        _env["DOCKER_CERT_PATH"] = "/my/certs";
        var e = Resolver.Resolve(null);
        Assert.True(e.UsesTls);
        Assert.True(e.TlsVerify);
        Assert.Equal("/my/certs", e.TlsCertPath);
        Assert.Equal("tcp://10.9.9.9:2376", e.Host);
    }

    [Fact]
    public void Tls_verify_without_cert_path_uses_home_docker()
    {
        _env["DOCKER_HOST"] = "tcp://10.9.9.9:2376";
        _env["DOCKER_TLS_VERIFY"] = "1";
        var e = Resolver.Resolve(null);
        Assert.Equal(Path.Combine(_env["HOME"]!, ".docker"), e.TlsCertPath);
    }

    [Fact]
    public void Tls_settings_also_apply_to_an_explicit_tcp_host()
    {
        _env["DOCKER_TLS_VERIFY"] = "1";
        _env["DOCKER_CERT_PATH"] = "/my/certs";
        var e = Resolver.Resolve("tcp://127.0.0.1:2376");
        Assert.True(e.UsesTls);
        Assert.Equal("/my/certs", e.TlsCertPath);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("false")]
    [InlineData("")]
    public void Tls_verify_off_without_cert_path_is_plain(string value)
    {
        _env["DOCKER_HOST"] = "http://10.9.9.9:2375";
        _env["DOCKER_TLS_VERIFY"] = value;
        var e = Resolver.Resolve(null);
        Assert.False(e.UsesTls);
        Assert.False(e.TlsVerify);
    }

    [Fact]
    public void Tls_variables_are_ignored_for_unix_sockets()
    {
        _env["DOCKER_HOST"] = "unix:///tmp/x.sock";
        _env["DOCKER_TLS_VERIFY"] = "1";
        _env["DOCKER_CERT_PATH"] = "/my/certs";
        Assert.False(Resolver.Resolve(null).UsesTls);
    }

    [Theory]
    [InlineData("1.41", 1, 41)]
    [InlineData("v1.43", 1, 43)]
    [InlineData(" 1.24 ", 1, 24)]
    public void Api_version_variable(string value, int major, int minor)
    {
        _env["DOCKER_API_VERSION"] = value;
        Assert.Equal(new Version(major, minor), Resolver.Resolve(null).ApiVersion);
        Assert.Equal(new Version(major, minor), Resolver.Resolve("unix:///x.sock").ApiVersion);
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("1")]
    [InlineData("1.x")]
    public void Invalid_api_version(string value)
    {
        _env["DOCKER_API_VERSION"] = value;
        var e = Assert.Throws<SandboxException>(() => Resolver.Resolve(null));
        Assert.Equal("InvalidDockerApiVersion", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void Docker_context_variable()
    {
        AddContext("remote", "tcp://127.1.1.1:2375");
        _env["DOCKER_CONTEXT"] = "remote";
        var e = Resolver.Resolve(null);
        Assert.Equal("tcp://127.1.1.1:2375", e.Host);
        Assert.Equal("context 'remote'", e.Source);
        Assert.False(e.UsesTls);
    }

    [Fact]
    public void Context_with_tls_material()
    {
        var tls = AddContext("secure", "tcp://10.1.1.2:2376", withTls: true);
        _env["DOCKER_CONTEXT"] = "secure";
        var e = Resolver.Resolve(null);
        Assert.Equal(tls, e.TlsCertPath);
        Assert.True(e.TlsVerify);
    }

    [Fact]
    public void Context_with_tls_and_skip_verify()
    {
        AddContext("lax", "tcp://10.1.1.2:2376", withTls: true, skipVerify: true);
        _env["DOCKER_CONTEXT"] = "lax";
        var e = Resolver.Resolve(null);
        Assert.True(e.UsesTls);
        Assert.False(e.TlsVerify);
    }

    [Fact]
    public void Current_context_from_config_json()
    {
        AddContext("ssh-box", "ssh://me@box:2222");
        File.WriteAllText(Path.Combine(Config, "config.json"), """{"auths":{},"currentContext":"ssh-box"}""");
        var e = Resolver.Resolve(null);
        Assert.Equal(EndpointKind.Ssh, e.Kind);
        Assert.Equal("ssh://me@box:2222", e.Host);
        Assert.Equal("context 'ssh-box'", e.Source);
    }

    [Fact]
    public void Docker_context_variable_wins_over_config_json()
    {
        AddContext("a", "tcp://127.0.0.21:2375");
        AddContext("b", "tcp://127.0.0.22:2375");
        File.WriteAllText(Path.Combine(Config, "config.json"), """{"currentContext":"a"}""");
        _env["DOCKER_CONTEXT"] = "b";
        Assert.Equal("tcp://127.0.0.22:2375", Resolver.Resolve(null).Host);
    }

    [Fact]
    public void Config_folder_defaults_to_home_docker()
    {
        _env.Remove("DOCKER_CONFIG");
        var config = Path.Combine(_env["HOME"]!, ".docker");
        AddContext("homectx", "tcp://127.0.0.23:2375", configDir: config);
        File.WriteAllText(Path.Combine(config, "config.json"), """{"currentContext":"homectx"}""");
        Assert.Equal("tcp://127.0.0.23:2375", Resolver.Resolve(null).Host);
    }

    [Fact]
    public void Default_context_means_default_socket()
    {
        File.WriteAllText(Path.Combine(Config, "config.json"), """{"currentContext":"default"}""");
        Assert.Equal("default", Resolver.Resolve(null).Source);
        _env["DOCKER_CONTEXT"] = "default";
        Assert.Equal("default", Resolver.Resolve(null).Source);
    }

    [Fact]
    public void Config_without_current_context_means_default_socket()
    {
        File.WriteAllText(Path.Combine(Config, "config.json"), """{"auths":{}}""");
        Assert.Equal("default", Resolver.Resolve(null).Source);
    }

    [Fact]
    public void Missing_context_is_DockerContextNotFound()
    {
        _env["DOCKER_CONTEXT"] = "ghost";
        var e = Assert.Throws<SandboxException>(() => Resolver.Resolve(null));
        Assert.Equal("DockerContextNotFound", e.ErrorId);
        Assert.Equal(SandboxErrorKind.ObjectNotFound, e.Kind);
        Assert.Equal("ghost", e.Target);
    }

    [Fact]
    public void Missing_current_context_is_DockerContextNotFound()
    {
        File.WriteAllText(Path.Combine(Config, "config.json"), """{"currentContext":"gone"}""");
        Assert.Equal("DockerContextNotFound", Assert.Throws<SandboxException>(() => Resolver.Resolve(null)).ErrorId);
    }

    [Fact]
    public void Context_without_docker_host_is_DockerContextInvalid()
    {
        var meta = Path.Combine(Config, "contexts", "meta", EndpointResolver.ContextFolderName("empty"));
        Directory.CreateDirectory(meta);
        File.WriteAllText(Path.Combine(meta, "meta.json"), """{"Name":"empty","Endpoints":{}}""");
        _env["DOCKER_CONTEXT"] = "empty";
        Assert.Equal("DockerContextInvalid", Assert.Throws<SandboxException>(() => Resolver.Resolve(null)).ErrorId);
    }

    [Fact]
    public void Api_version_applies_to_contexts()
    {
        AddContext("remote", "tcp://127.1.1.1:2375");
        _env["DOCKER_CONTEXT"] = "remote";
        _env["DOCKER_API_VERSION"] = "1.41";
        Assert.Equal(new Version(1, 41), Resolver.Resolve(null).ApiVersion);
    }
}
