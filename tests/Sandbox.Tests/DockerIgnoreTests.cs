using Sandbox.Build;
using Xunit;

namespace Sandbox.Tests;

/// <summary>.dockerignore matching as Docker's own (moby/patternmatcher) decides it.</summary>
public sealed class DockerIgnoreTests
{
    [Theory]
    // Plain names match at the top only, and everything under a matched folder.
    [InlineData("secret.txt", "secret.txt", true)]
    [InlineData("secret.txt", "sub/secret.txt", false)]
    [InlineData("node_modules", "node_modules/a/b.js", true)]
    [InlineData("node_modules", "node_modules", true)]
    [InlineData("node_modules", "src/node_modules/x.js", false)]
    [InlineData("build", "builder/x", false)]
    // '*' and '?' stay inside one path component.
    [InlineData("*.log", "app.log", true)]
    [InlineData("*.log", "logs/app.log", false)]
    [InlineData("*/*.log", "logs/app.log", true)]
    [InlineData("*/*.log", "a/b/app.log", false)]
    [InlineData("temp?", "temp1", true)]
    [InlineData("temp?", "temp12", false)]
    [InlineData("temp?", "temp/", false)]
    [InlineData("*", "anything/at/all", true)]
    // '**' crosses any number of folders, none included.
    [InlineData("**/*.log", "app.log", true)]
    [InlineData("**/*.log", "a/b/c/app.log", true)]
    [InlineData("**/foo", "foo", true)]
    [InlineData("**/foo", "x/y/foo", true)]
    [InlineData("**/foo", "x/foofoo", false)]
    [InlineData("docs/**", "docs/a/b.md", true)]
    [InlineData("docs/**", "docs", false)]
    [InlineData("a/**/b", "a/b", true)]
    [InlineData("a/**/b", "a/x/y/b", true)]
    [InlineData("a/**/b", "a/x/y/bc", false)]
    [InlineData("**", "x/y", true)]
    // Cleaned like Go's filepath.Clean: leading '/', './', trailing '/', '..' resolved.
    [InlineData("/secret.txt", "secret.txt", true)]
    [InlineData("./secret.txt", "secret.txt", true)]
    [InlineData("cache/", "cache/x", true)]
    [InlineData("a/../b", "b", true)]
    [InlineData("a//b", "a/b", true)]
    // Character classes and escapes.
    [InlineData("file[0-9].txt", "file7.txt", true)]
    [InlineData("file[0-9].txt", "filex.txt", false)]
    [InlineData("file[^0-9].txt", "filex.txt", true)]
    [InlineData("file[^0-9].txt", "file7.txt", false)]
    [InlineData(@"star\*", "star*", true)]
    [InlineData(@"star\*", "starx", false)]
    // Regex characters are literals.
    [InlineData("a+b(c).txt", "a+b(c).txt", true)]
    [InlineData("a.txt", "abtxt", false)]
    [InlineData("$HOME", "$HOME", true)]
    public void One_pattern(string pattern, string path, bool excluded)
    {
        Assert.Equal(excluded, DockerIgnore.Parse(pattern).IsExcluded(path));
    }

    [Theory]
    // The last matching line decides; '!' brings a path back.
    [InlineData("*.md\n!README.md", "README.md", false)]
    [InlineData("*.md\n!README.md", "CHANGES.md", true)]
    [InlineData("!README.md\n*.md", "README.md", true)]
    [InlineData("docs\n!docs/keep.md", "docs/keep.md", false)]
    [InlineData("docs\n!docs/keep.md", "docs/other.md", true)]
    [InlineData("**/*.pyc\n!keep/**", "keep/a.pyc", false)]
    [InlineData("**/*.pyc\n!keep/**", "other/a.pyc", true)]
    // An exception for a file inside a folder excluded later is undone by that later line.
    [InlineData("!docs/keep.md\ndocs", "docs/keep.md", true)]
    // A file excluded by its parent folder comes back only by an exception that names it (or a parent).
    [InlineData("a\n!a/b", "a/b/c", false)]
    [InlineData("a\n!a/b\na/b/c", "a/b/c", true)]
    public void Several_patterns(string file, string path, bool excluded)
    {
        Assert.Equal(excluded, DockerIgnore.Parse(file).IsExcluded(path));
    }

    [Fact]
    public void Comments_blank_lines_spaces_and_a_byte_order_mark_are_ignored()
    {
        var ignore = DockerIgnore.Parse("\uFEFF# a comment\r\n\r\n   *.tmp   \r\n  # indented comment\r\n\t!keep.tmp\r\n");
        Assert.Equal(new[] { "*.tmp", "!keep.tmp" }, ignore.Patterns);
        Assert.True(ignore.IsExcluded("x.tmp"));
        Assert.False(ignore.IsExcluded("keep.tmp"));
        Assert.False(ignore.IsExcluded("# a comment"));
    }

    [Fact]
    public void A_hash_inside_a_line_is_part_of_the_pattern()
    {
        Assert.True(DockerIgnore.Parse("file#1").IsExcluded("file#1"));
    }

    [Fact]
    public void A_lone_exclamation_mark_is_an_error()
    {
        var e = Assert.Throws<FormatException>(() => DockerIgnore.Parse("*.log\n!\n"));
        Assert.Contains("Line 2", e.Message);
    }

    [Fact]
    public void An_unclosed_class_is_an_error()
    {
        Assert.Throws<FormatException>(() => DockerIgnore.Parse("file[0-9"));
    }

    [Fact]
    public void Nothing_is_excluded_without_patterns()
    {
        Assert.False(DockerIgnore.Empty.IsExcluded("anything"));
        Assert.False(DockerIgnore.Parse("\n# only a comment\n").IsExcluded("anything"));
    }

    [Theory]
    [InlineData("docs\n!docs/keep.md", "docs", true)]
    [InlineData("docs\n!docs/keep.md", "other", false)]
    [InlineData("docs\n!docs/sub/keep.md", "docs/sub", true)]
    [InlineData("docs\n!docs/sub/keep.md", "docs/else", false)]
    [InlineData("docs\n!**/keep.md", "docs/deep/er", true)]
    [InlineData("docs\n!*/keep.md", "docs", true)]
    [InlineData("docs", "docs", false)]
    public void Excluded_folders_are_walked_only_when_an_exception_may_reach_inside(string file, string folder, bool walk)
    {
        Assert.Equal(walk, DockerIgnore.Parse(file).MayIncludeInside(folder));
    }

    [Theory]
    [InlineData("a/./b/", "a/b")]
    [InlineData("../x", "../x")]
    [InlineData("a/../../x", "../x")]
    [InlineData("/a/../..", "/")]
    [InlineData(".", ".")]
    [InlineData("", ".")]
    public void Clean_follows_go(string path, string cleaned)
    {
        Assert.Equal(cleaned, DockerIgnore.Clean(path));
    }
}
