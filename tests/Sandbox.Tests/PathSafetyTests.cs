using Sandbox.Files;
using Xunit;

namespace Sandbox.Tests;

public sealed class PathSafetyTests : IDisposable
{
    readonly string _root;
    readonly string _temp = Directory.CreateTempSubdirectory("sandbox-paths-").FullName;

    public PathSafetyTests()
    {
        _root = Path.Combine(_temp, "dest");
        Directory.CreateDirectory(_root);
    }

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/../b")]          // '..' is refused outright, even when it would stay inside
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("//server/share")]
    [InlineData("C:/x")]
    [InlineData("c:x")]
    [InlineData("a\\..\\..\\x")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("./")]
    [InlineData("a/b\0c")]
    public void Unsafe_entries_are_refused(string entry)
    {
        Assert.Null(PathSafety.ResolveEntry(_root, entry));
    }

    [Theory]
    [InlineData("ok/file", "ok/file")]
    [InlineData("./ok", "ok")]
    [InlineData("ok/", "ok")]
    [InlineData("a//b", "a/b")]
    [InlineData("./a/./b", "a/b")]
    [InlineData("..hidden", "..hidden")]
    [InlineData("a..b/c", "a..b/c")]
    public void Safe_entries_resolve_under_the_root(string entry, string relative)
    {
        var expected = Path.Combine(new[] { _root }.Concat(relative.Split('/')).ToArray());
        Assert.Equal(expected, PathSafety.ResolveEntry(_root, entry));
    }

    [Fact]
    public void Root_given_with_trailing_separator_or_relative_parts()
    {
        Assert.Equal(Path.Combine(_root, "f"), PathSafety.ResolveEntry(_root + "/", "f"));
        Assert.Equal(Path.Combine(_root, "f"), PathSafety.ResolveEntry(Path.Combine(_root, "..", "dest"), "f"));
    }

    [Theory]
    [InlineData("a/link", "target", true)]
    [InlineData("a/link", "../b/target", true)]
    [InlineData("a/link", "./sibling", true)]
    [InlineData("a/link", "..", true)]                 // the root itself
    [InlineData("a/link", "../..", false)]
    [InlineData("a/link", "../../outside", false)]
    [InlineData("link", "../dest-other/x", false)]     // a sibling whose name starts like the root
    [InlineData("a/link", "/etc/passwd", false)]
    [InlineData("a/link", "C:/Windows", false)]
    [InlineData("a/link", "", false)]
    public void IsLinkInside(string link, string target, bool inside)
    {
        Assert.Equal(inside, PathSafety.IsLinkInside(_root, Path.Combine(_root, link), target));
    }

    [Fact]
    public void A_link_through_an_earlier_link_is_not_inside()
    {
        // Copy-out writes links in archive order. 'x' -> '.' is inside; 'y' -> 'x/..' looks inside when resolved as text
        // (root/x/.. = root) but the kernel resolves x first, so y is the root's parent: the copy would leave a link
        // in the destination that leads out of it.
        File.WriteAllText(Path.Combine(_temp, "marker"), "outside");
        var x = Path.Combine(_root, "x");
        Assert.True(PathSafety.IsLinkInside(_root, x, "."));
        Directory.CreateSymbolicLink(x, ".");
        var y = Path.Combine(_root, "y");
        var inside = PathSafety.IsLinkInside(_root, y, "x/..");
        if (inside) Directory.CreateSymbolicLink(y, "x/..");
        Assert.False(inside && File.Exists(Path.Combine(y, "marker")), "y -> x/.. was judged inside, yet it reaches a file outside the destination");
        Assert.False(inside);
    }

    [Fact]
    public void IsInside()
    {
        Assert.True(PathSafety.IsInside(_root, _root));
        Assert.True(PathSafety.IsInside(_root, Path.Combine(_root, "x")));
        Assert.True(PathSafety.IsInside(_root + "/", Path.Combine(_root, "x")));
        Assert.False(PathSafety.IsInside(_root, _root + "-other"));
        Assert.False(PathSafety.IsInside(_root, Path.GetDirectoryName(_root)!));
    }

    [Fact]
    public void PassesThroughLink_with_real_symlinks()
    {
        var real = Directory.CreateDirectory(Path.Combine(_root, "real")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(_temp, "outside")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_root, "escape"), outside);
        Directory.CreateSymbolicLink(Path.Combine(_root, "real", "inner"), real);

        Assert.True(PathSafety.PassesThroughLink(_root, Path.Combine(_root, "escape", "file")));
        Assert.True(PathSafety.PassesThroughLink(_root, Path.Combine(_root, "escape", "deeper", "file")));
        Assert.True(PathSafety.PassesThroughLink(_root, Path.Combine(_root, "real", "inner", "file")));
        Assert.False(PathSafety.PassesThroughLink(_root, Path.Combine(_root, "real", "file")));
        Assert.False(PathSafety.PassesThroughLink(_root, Path.Combine(_root, "file")));
        Assert.False(PathSafety.PassesThroughLink(_root, Path.Combine(_root, "not-yet", "file")));
        // The link itself as the final component is not "passing through" it (the caller checks IsLink).
        Assert.False(PathSafety.PassesThroughLink(_root, Path.Combine(_root, "escape")));
        Assert.True(PathSafety.IsLink(Path.Combine(_root, "escape")));
        Assert.False(PathSafety.IsLink(real));
        Assert.False(PathSafety.IsLink(Path.Combine(_root, "missing")));
    }

    [Fact]
    public void A_link_above_the_root_does_not_count()
    {
        var rootLink = Path.Combine(_temp, "dest-link");
        Directory.CreateSymbolicLink(rootLink, _root);
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        Assert.False(PathSafety.PassesThroughLink(rootLink, Path.Combine(rootLink, "sub", "file")));
    }

    [Fact]
    public void RemoveLink_removes_the_link_itself_and_nothing_it_points_to()
    {
        var outside = Path.Combine(_temp, "outside");
        Directory.CreateDirectory(outside);
        var victim = Path.Combine(outside, "victim.txt");
        File.WriteAllText(victim, "untouched");
        var toFile = Path.Combine(_root, "to-file");
        var toFolder = Path.Combine(_root, "to-folder");
        var dangling = Path.Combine(_root, "dangling");
        File.CreateSymbolicLink(toFile, victim);
        Directory.CreateSymbolicLink(toFolder, outside);
        File.CreateSymbolicLink(dangling, Path.Combine(outside, "missing"));

        foreach (var link in new[] { toFile, toFolder, dangling })
        {
            PathSafety.RemoveLink(link);
            Assert.False(PathSafety.IsLink(link), link);
            Assert.False(File.Exists(link) || Directory.Exists(link), link);
        }
        Assert.Equal("untouched", File.ReadAllText(victim));
        Assert.Equal(new[] { victim }, Directory.GetFileSystemEntries(outside));
    }

    [Fact]
    public void RemoveLink_leaves_real_files_and_folders_alone()
    {
        var file = Path.Combine(_root, "file");
        var folder = Path.Combine(_root, "folder");
        File.WriteAllText(file, "kept");
        Directory.CreateDirectory(folder);
        PathSafety.RemoveLink(file);
        PathSafety.RemoveLink(folder);
        PathSafety.RemoveLink(Path.Combine(_root, "missing"));
        Assert.Equal("kept", File.ReadAllText(file));
        Assert.True(Directory.Exists(folder));
    }
}
