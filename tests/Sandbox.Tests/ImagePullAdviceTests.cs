using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class ImagePullAdviceTests
{
    const string Offline = "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host";
    const string Missing = "manifest for 127.0.0.1:5000/x:1 not found: manifest unknown: manifest unknown";
    const string Denied = "pull access denied for nosuch/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied";

    [Theory]
    [InlineData(Offline, true)]
    [InlineData("Get \"http://localhost:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused", true)]
    [InlineData("Get \"https://registry-1.docker.io/v2/\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)", true)]
    [InlineData("Get \"https://r.example/v2/\": net/http: TLS handshake timeout", true)]
    [InlineData(Missing, false)]
    [InlineData(Denied, false)]
    [InlineData("unauthorized: authentication required", false)]
    public void Tells_an_unreachable_registry_from_a_wrong_name(string reason, bool unreachable)
    {
        Assert.Equal(unreachable, ImagePuller.IsRegistryUnreachable(reason));
    }

    [Fact]
    public void A_given_image_offline_does_not_start_with_log_in()
    {
        var advice = ImagePuller.Advice(Offline, ImageOrigin.Given);
        Assert.StartsWith("The engine cannot reach the registry", advice);
        Assert.DoesNotContain("log in", advice);
    }

    [Fact]
    public void A_given_image_that_is_not_there_points_at_the_name_and_the_login()
    {
        var advice = ImagePuller.Advice(Denied, ImageOrigin.Given);
        Assert.StartsWith("Check the name", advice);
        Assert.Contains("docker login", advice);
    }

    [Fact]
    public void The_module_default_says_to_pass_Image_or_set_SANDBOX_IMAGE()
    {
        var advice = ImagePuller.Advice(Offline, ImageOrigin.ModuleDefault);
        Assert.Contains("-Image", advice);
        Assert.Contains("$env:SANDBOX_IMAGE", advice);
        Assert.DoesNotContain("log in", advice);
    }

    [Fact]
    public void A_language_default_says_to_pass_Image_or_register_the_language()
    {
        var advice = ImagePuller.Advice(Missing, ImageOrigin.Language("python"));
        Assert.Contains("-Image", advice);
        Assert.Contains("Register-SandboxLanguage -Name python -Image", advice);
        Assert.DoesNotContain("cannot reach", advice);
    }

    [Fact]
    public void A_language_build_image_says_to_pass_BaseImage_or_register_the_build_image()
    {
        var advice = ImagePuller.Advice(Offline, ImageOrigin.LanguageBuild("python"));
        Assert.Contains("-BaseImage", advice);
        Assert.Contains("Register-SandboxLanguage -Name python -BuildImage", advice);
    }
}
