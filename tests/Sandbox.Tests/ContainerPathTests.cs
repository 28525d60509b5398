using Sandbox.Files;
using Xunit;

namespace Sandbox.Tests;

public class ContainerPathTests
{
    [Theory]
    [InlineData("/workspace", "a.txt", "/workspace/a.txt")]
    [InlineData("/workspace/", "a.txt", "/workspace/a.txt")]
    [InlineData("/workspace", "sub/a.txt", "/workspace/sub/a.txt")]
    [InlineData("/workspace", "/etc/hosts", "/etc/hosts")]
    [InlineData("/", "x", "/x")]
    public void Combine(string a, string b, string expected) => Assert.Equal(expected, ContainerPath.Combine(a, b));

    [Theory]
    [InlineData("/a/b", "/a")]
    [InlineData("/a/b/", "/a")]
    [InlineData("/a", "/")]
    [InlineData("/", "/")]
    [InlineData("/workspace/dir/file.txt", "/workspace/dir")]
    public void Parent(string path, string expected) => Assert.Equal(expected, ContainerPath.Parent(path));

    [Theory]
    [InlineData("/a/b", "b")]
    [InlineData("/a/b/", "b")]
    [InlineData("/file.txt", "file.txt")]
    [InlineData("file.txt", "file.txt")]
    public void Name(string path, string expected) => Assert.Equal(expected, ContainerPath.Name(path));

    [Theory]
    [InlineData("/workspace", "x", "/workspace/x")]
    [InlineData("/workspace", "./x", "/workspace/x")]
    [InlineData("/workspace", "x/y", "/workspace/x/y")]
    [InlineData("/workspace", "/etc", "/etc")]
    [InlineData("/workspace/", "./out/r.txt", "/workspace/out/r.txt")]
    [InlineData("/", "./x", "/x")]
    public void Resolve(string workdir, string path, string expected) => Assert.Equal(expected, ContainerPath.Resolve(workdir, path));
}
