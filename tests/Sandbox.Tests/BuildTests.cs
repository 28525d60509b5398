using System.Text;
using Sandbox.Build;
using Sandbox.Files;
using Sandbox.Languages;
using Xunit;

namespace Sandbox.Tests;

/// <summary>-Build's pure parts: what a folder is, the Dockerfile made for it, the context and its hash.</summary>
public sealed class BuildTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("sandbox-build-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    string Write(string relative, string content)
    {
        var path = Path.Combine(_folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Theory]
    [InlineData("requirements.txt", "python")]
    [InlineData("pyproject.toml", "python")]
    [InlineData("package.json", "node")]
    [InlineData("pom.xml", "java")]
    [InlineData("build.gradle", "java")]
    [InlineData("App.csproj", "dotnet")]
    [InlineData("go.mod", "go")]
    [InlineData("Gemfile", "ruby")]
    [InlineData("run.sh", "shell")]
    [InlineData("README.md", "shell")]
    public void The_language_comes_from_top_level_files(string file, string language)
    {
        Write(file, "x");
        var project = ProjectDetector.Detect(_folder);
        Assert.Null(project.DockerfileName);
        Assert.Equal(language, project.Language!.Name);
    }

    [Fact]
    public void The_table_order_decides_between_languages()
    {
        Write("package.json", "{}");
        Write("requirements.txt", "");
        Assert.Equal("python", ProjectDetector.Detect(_folder).Language!.Name);
    }

    [Fact]
    public void Only_the_top_folder_is_looked_at()
    {
        Write("sub/package.json", "{}");
        Assert.Equal(LanguageTable.ShellLanguage, ProjectDetector.Detect(_folder).Language!.Name);
    }

    [Fact]
    public void A_folder_named_like_a_marker_file_is_no_marker()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "go.mod"));
        Assert.Equal(LanguageTable.ShellLanguage, ProjectDetector.Detect(_folder).Language!.Name);
    }

    [Fact]
    public void A_Dockerfile_wins_over_any_language()
    {
        Write("requirements.txt", "");
        Write("Dockerfile", "FROM busybox\n");
        var project = ProjectDetector.Detect(_folder);
        Assert.Equal("Dockerfile", project.DockerfileName);
        Assert.Null(project.Language);
    }

    [Theory]
    [InlineData("*.csproj", "App.csproj", true)]
    [InlineData("*.csproj", "App.csproj.user", false)]
    [InlineData("go.mod", "GO.MOD", true)]
    [InlineData("go.mod", "go_mod", false)]
    [InlineData("build.gradle*", "build.gradle.kts", true)]
    public void Detection_globs(string glob, string name, bool matches)
    {
        Assert.Equal(matches, ProjectDetector.GlobMatches(glob, name));
    }

    [Fact]
    public void The_generated_Dockerfile_sets_up_the_workspace_and_installs()
    {
        var python = LanguageTable.Find("python")!;
        var text = DockerfileGenerator.Generate(python, "sandbox-local/polyglot:bookworm");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
        Assert.Equal("FROM sandbox-local/polyglot:bookworm", lines[0]);
        Assert.Equal("WORKDIR /workspace", lines[1]);
        Assert.Contains("ENV PIP_BREAK_SYSTEM_PACKAGES=\"1\"", lines);
        Assert.Contains("COPY project/ /workspace/", lines);
        Assert.Equal("RUN " + python.InstallCommand, lines[^1]);
        Assert.True(Array.IndexOf(lines, "COPY project/ /workspace/") < lines.Length - 1, "the project is copied before the install runs");
    }

    [Fact]
    public void Without_an_install_command_there_is_no_RUN_and_values_are_quoted()
    {
        var language = new LanguageDefinition
        {
            Name = "odd", Image = "busybox",
            BuildEnvironment = new Dictionary<string, string> { ["B"] = "say \"hi\" $HOME \\", ["A"] = "1" },
        };
        var text = DockerfileGenerator.Generate(language, "busybox");
        Assert.DoesNotContain("RUN", text);
        Assert.Contains("ENV B=\"say \\\"hi\\\" \\$HOME \\\\\"\n", text);
        Assert.True(text.IndexOf("ENV A=", StringComparison.Ordinal) < text.IndexOf("ENV B=", StringComparison.Ordinal), "sorted, so that the hash is stable");
    }

    [Fact]
    public void The_base_image_is_the_languages_build_image_unless_given()
    {
        Write("pom.xml", "<project/>");
        var project = ProjectDetector.Detect(_folder);
        Assert.Equal(project.Language!.EffectiveBuildImage, BuildContext.Create(project, null).BaseImage);
        Assert.Equal("maven:3-eclipse-temurin-21", BuildContext.Create(project, null).BaseImage);
        var own = BuildContext.Create(project, "my/base:1");
        Assert.Equal("my/base:1", own.BaseImage);
        Assert.StartsWith("# Generated", own.GeneratedDockerfile);
        Assert.Contains("FROM my/base:1\n", own.GeneratedDockerfile);
    }

    [Fact]
    public void The_context_leaves_out_what_dockerignore_excludes()
    {
        Write("requirements.txt", "requests\n");
        Write("main.py", "print(1)\n");
        Write("secret.env", "x");
        Write("cache/a.bin", "x");
        Write("docs/keep.md", "x");
        Write("docs/drop.md", "x");
        Write(".dockerignore", "secret.env\ncache\ndocs\n!docs/keep.md\n");
        var context = BuildContext.Create(ProjectDetector.Detect(_folder), "img");
        Assert.Equal(new[] { ".dockerignore", "docs/keep.md", "main.py", "requirements.txt" }, context.Entries.Select(e => e.Name).ToArray());
    }

    [Fact]
    public void A_Dockerfile_and_dockerignore_are_always_sent_with_the_folders_own_Dockerfile()
    {
        Write("Dockerfile", "FROM busybox\nCOPY . /app\n");
        Write("app.txt", "x");
        Write(".dockerignore", "Dockerfile\n.dockerignore\n");
        var context = BuildContext.Create(ProjectDetector.Detect(_folder), null);
        Assert.Equal(new[] { ".dockerignore", "Dockerfile", "app.txt" }, context.Entries.Select(e => e.Name).ToArray());
        Assert.Equal("Dockerfile", context.DockerfilePath);
        Assert.Null(context.GeneratedDockerfile);
    }

    [Fact]
    public void The_hash_follows_content_and_modes_not_times_or_ignored_files()
    {
        Write("main.py", "print(1)\n");
        Write("requirements.txt", "");
        var ignored = Write("notes.txt", "one");
        Write(".dockerignore", "notes.txt\n");
        string Hash(string? baseImage = "img") => BuildContext.Create(ProjectDetector.Detect(_folder), baseImage).ComputeHash();

        var first = Hash();
        Assert.Matches("^[0-9a-f]{64}$", first);
        Assert.Equal(first, Hash());

        File.WriteAllText(ignored, "two");
        Assert.Equal(first, Hash());

        File.SetLastWriteTimeUtc(Path.Combine(_folder, "main.py"), DateTime.UtcNow.AddDays(-3));
        Assert.Equal(first, Hash());

        Assert.NotEqual(first, Hash("other-img"));
        var context = BuildContext.Create(ProjectDetector.Detect(_folder), "img");
        Assert.NotEqual(context.ComputeHash("sha256:aaaa"), context.ComputeHash("sha256:bbbb"));   // the base image rebuilt under its name

        File.WriteAllText(Path.Combine(_folder, "main.py"), "print(2)\n");
        var changed = Hash();
        Assert.NotEqual(first, changed);

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(_folder, "main.py"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Assert.NotEqual(changed, Hash());
        }

        Write("new.py", "");
        Assert.NotEqual(changed, Hash());
    }

    [Fact]
    public void Moving_content_between_files_changes_the_hash()
    {
        Write("a", "xy");
        Write("b", "");
        var before = BuildContext.Create(ProjectDetector.Detect(_folder), "img").ComputeHash();
        File.WriteAllText(Path.Combine(_folder, "a"), "x");
        File.WriteAllText(Path.Combine(_folder, "b"), "y");
        Assert.NotEqual(before, BuildContext.Create(ProjectDetector.Detect(_folder), "img").ComputeHash());
    }

    [Fact]
    public async Task The_tar_holds_the_generated_Dockerfile_and_the_project_beside_it()
    {
        Write("package.json", "{}");
        Write("src/index.js", "console.log(1)");
        Write(".dockerignore", "*.log");
        Write("debug.log", "x");
        var context = BuildContext.Create(ProjectDetector.Detect(_folder), "base:1");
        using var tar = new MemoryStream();
        await context.WriteAsync(tar, null, CancellationToken.None);
        tar.Position = 0;
        var reader = new TarReader(tar);
        var names = new List<string>();
        string? dockerfile = null;
        while (await reader.NextAsync(CancellationToken.None) is { } entry)
        {
            names.Add(entry.Name.TrimEnd('/'));
            if (entry.Name == "Dockerfile")
            {
                using var content = new MemoryStream();
                await reader.CopyDataAsync(content, null, CancellationToken.None);
                dockerfile = Encoding.UTF8.GetString(content.ToArray());
            }
        }
        Assert.Equal(new[] { "Dockerfile", "project", "project/.dockerignore", "project/package.json", "project/src", "project/src/index.js" }, names.ToArray());
        Assert.Equal(context.GeneratedDockerfile, dockerfile);
    }

    [Theory]
    [InlineData("/home/me/My Project", "sandbox-build/my-project:0123456789abcdef")]
    [InlineData("/home/me/web_app.v2/", "sandbox-build/web-app-v2:0123456789abcdef")]
    [InlineData("/home/me/___", "sandbox-build/project:0123456789abcdef")]
    [InlineData("C:\\code\\Tool", "sandbox-build/c-code-tool:0123456789abcdef")]
    public void Tags_are_valid_references_named_after_the_folder(string folder, string tag)
    {
        var expected = OperatingSystem.IsWindows() && folder.StartsWith("C:") ? "sandbox-build/tool:0123456789abcdef" : tag;
        Assert.Equal(expected, ImageBuilder.TagFor(folder, "0123456789abcdef" + new string('0', 48)));
        Lifecycle.ImageReference.Validate(expected);
    }
}
