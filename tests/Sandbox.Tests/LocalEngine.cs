using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Sandbox.Tests;

/// <summary>The local dockerd, talked to directly over its socket (not through the module), to decide whether the
/// end-to-end tests can run and to check and clean up behind them.</summary>
public static class LocalEngine
{
    public const string Socket = "/var/run/docker.sock";
    public const string Host = "unix://" + Socket;
    /// <summary>build.ps1 Test sets SANDBOX_TEST_IMAGE; docs/SURFACE.md names the default.</summary>
    public static readonly string TestImage =
        Environment.GetEnvironmentVariable("SANDBOX_TEST_IMAGE") is { Length: > 0 } image ? image : "sandbox-local/busybox:latest";

    static readonly Lazy<string?> WhyNot = new(Probe);

    /// <summary>Null when the engine answers and has the test image; else why the end-to-end tests are skipped.</summary>
    public static string? SkipReason => WhyNot.Value;

    static HttpClient Client(TimeSpan timeout) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancel) =>
        {
            var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(Socket), cancel);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri("http://docker/"), Timeout = timeout };

    static string? Probe()
    {
        if (!File.Exists(Socket)) return $"no Docker engine socket at {Socket}";
        try
        {
            using var client = Client(TimeSpan.FromSeconds(5));
            var ping = client.GetAsync("_ping").GetAwaiter().GetResult();
            if (!ping.IsSuccessStatusCode) return $"the engine at {Host} answered /_ping with {(int)ping.StatusCode}";
            var image = client.GetAsync($"images/{TestImage}/json").GetAwaiter().GetResult();
            if (image.StatusCode == HttpStatusCode.NotFound)
                return $"the image {TestImage} is not on the engine (build it with tests/setup/New-TestImage.sh or build.ps1 Test)";
            if (!image.IsSuccessStatusCode) return $"inspecting {TestImage} gave {(int)image.StatusCode}";
            return null;
        }
        catch (Exception e) when (e is HttpRequestException || e is SocketException || e is TaskCanceledException || e is IOException)
        {
            return $"the engine at {Host} does not answer: {e.Message}";
        }
    }

    /// <summary>docker inspect of a container, or null when it does not exist.</summary>
    public static JsonDocument? Inspect(string nameOrId)
    {
        using var client = Client(TimeSpan.FromSeconds(10));
        var response = client.GetAsync($"containers/{Uri.EscapeDataString(nameOrId)}/json").GetAwaiter().GetResult();
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
    }

    /// <summary>Last-resort cleanup: force-removes a container by name, whatever state the test left it in.</summary>
    public static void ForceRemove(string nameOrId)
    {
        try
        {
            using var client = Client(TimeSpan.FromSeconds(20));
            client.DeleteAsync($"containers/{Uri.EscapeDataString(nameOrId)}?force=true").GetAwaiter().GetResult();
        }
        catch (Exception) { /* nothing to clean, or no engine */ }
    }
}
