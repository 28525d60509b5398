using Sandbox.Languages;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

/// <summary>Tests that change the process-wide language table run alone, and put the built-in table back.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LanguageTableCollection
{
    public const string Name = "LanguageTable";
}

[Collection(LanguageTableCollection.Name)]
public sealed class LanguageTableTests : IDisposable
{
    public LanguageTableTests() => LanguageTable.Reset();

    public void Dispose() => LanguageTable.Reset();

    static LanguageDefinition Perl(string name = "perl-test") => new LanguageDefinition
    {
        Name = name, Aliases = new[] { "pl-test" }, Extension = ".pl", Image = "sandbox-local/polyglot:bookworm",
        RunCommand = new[] { "perl", LanguageDefinition.FilePlaceholder },
    };

    static SandboxException Invalid(LanguageDefinition definition)
    {
        var e = Assert.Throws<SandboxException>(definition.Validate);
        Assert.Equal("InvalidLanguageDefinition", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
        return e;
    }

    [Theory]
    [InlineData("python", "python")]
    [InlineData("PY", "python")]
    [InlineData("python3", "python")]
    [InlineData("js", "node")]
    [InlineData("JavaScript", "node")]
    [InlineData("c#", "dotnet")]
    [InlineData("golang", "go")]
    [InlineData("sh", "shell")]
    [InlineData("pwsh", "powershell")]
    public void Names_and_aliases_find_their_language_in_any_case(string nameOrAlias, string expected)
    {
        Assert.Equal(expected, LanguageTable.Find(nameOrAlias)?.Name);
        Assert.Equal(expected, LanguageTable.Get(nameOrAlias).Name);
    }

    [Fact]
    public void An_unknown_language_is_an_error_that_lists_the_known_ones()
    {
        Assert.Null(LanguageTable.Find("cobol"));
        var e = Assert.Throws<SandboxException>(() => LanguageTable.Get("cobol"));
        Assert.Equal("UnknownLanguage", e.ErrorId);
        Assert.Equal(SandboxErrorKind.ObjectNotFound, e.Kind);
        Assert.Contains("'cobol'", e.Message);
        Assert.Contains("python (py, python3)", e.Message);
        Assert.Contains("node (javascript, js, nodejs)", e.Message);
        Assert.Contains("Register-SandboxLanguage", e.RecommendedAction);
    }

    [Theory]
    [InlineData(".py", "python")]
    [InlineData(".PY", "python")]
    [InlineData(".js", "node")]
    [InlineData(".java", "java")]
    [InlineData(".ps1", "powershell")]
    [InlineData(".sh", "bash")]
    public void Extensions_find_the_first_language_that_has_them(string extension, string expected) =>
        Assert.Equal(expected, LanguageTable.FindByExtension(extension)?.Name);

    [Fact]
    public void An_unknown_extension_finds_nothing() => Assert.Null(LanguageTable.FindByExtension(".cbl"));

    [Fact]
    public void Every_built_in_language_is_valid_and_runs_its_file()
    {
        foreach (var language in LanguageTable.All)
        {
            language.Validate();
            Assert.Contains(language.RunCommand, a => a.Contains(LanguageDefinition.FilePlaceholder));
        }
    }

    [Fact]
    public void The_table_hands_out_copies()
    {
        var python = LanguageTable.Find("python")!;
        python.Image = "changed";
        python.RunCommand[0] = "changed";
        Assert.Equal("python:3.12-slim", LanguageTable.Find("python")!.Image);
        Assert.Equal("python3", LanguageTable.Find("python")!.RunCommand[0]);
    }

    [Fact]
    public void A_new_language_is_found_by_name_alias_and_extension_and_detects_before_the_shell_fallback()
    {
        LanguageTable.Register(Perl());
        Assert.Equal("perl-test", LanguageTable.Find("PL-TEST")?.Name);
        Assert.Equal("perl-test", LanguageTable.FindByExtension(".pl")?.Name);
        var names = LanguageTable.All.Select(l => l.Name).ToList();
        Assert.Equal(names.Count - 2, names.IndexOf("perl-test"));
        Assert.Equal(LanguageTable.ShellLanguage, names[^1]);
    }

    [Fact]
    public void Registering_a_known_name_replaces_the_entry_in_its_place()
    {
        var before = LanguageTable.All.Select(l => l.Name).ToList();
        var python = LanguageTable.Find("python")!;
        python.Image = "sandbox-local/polyglot:bookworm";
        LanguageTable.Register(python);
        Assert.Equal("sandbox-local/polyglot:bookworm", LanguageTable.Find("py")!.Image);
        Assert.Equal(before, LanguageTable.All.Select(l => l.Name).ToList());
    }

    [Fact]
    public void Reset_restores_the_built_in_table()
    {
        LanguageTable.Register(Perl());
        var python = LanguageTable.Find("python")!;
        python.Image = "elsewhere:1";
        LanguageTable.Register(python);
        LanguageTable.Reset();
        Assert.Null(LanguageTable.Find("perl-test"));
        Assert.Equal("python:3.12-slim", LanguageTable.Find("python")!.Image);
    }

    [Fact]
    public void Conflict_names_the_other_language_whose_name_or_alias_a_definition_would_take()
    {
        Assert.Null(LanguageTable.Conflict(Perl()));
        var clash = Perl();
        clash.Aliases = new[] { "py" };
        Assert.Equal("python", LanguageTable.Conflict(clash)?.Name);
        var named = Perl("JS");
        named.Aliases = Array.Empty<string>();
        Assert.Equal("node", LanguageTable.Conflict(named)?.Name);
        // The entry itself is no conflict: re-registering python with its own aliases is a replacement.
        Assert.Null(LanguageTable.Conflict(LanguageTable.Find("python")!));
    }

    [Fact]
    public void A_valid_definition_passes() => Perl().Validate();

    [Fact]
    public void The_run_command_must_contain_the_file_placeholder()
    {
        var d = Perl();
        d.RunCommand = new[] { "perl", "script.pl" };
        Assert.Contains("{file}", Invalid(d).Message);
    }

    [Fact]
    public void The_run_command_must_start_with_a_program()
    {
        var d = Perl();
        d.RunCommand = new[] { LanguageDefinition.FilePlaceholder };
        Invalid(d);
        d.RunCommand = Array.Empty<string>();
        Invalid(d);
        d.RunCommand = new[] { " ", LanguageDefinition.FilePlaceholder };
        Invalid(d);
    }

    [Theory]
    [InlineData("pl")]
    [InlineData(".")]
    [InlineData(".p l")]
    [InlineData("")]
    [InlineData("..pl")]
    public void The_extension_starts_with_a_dot_and_has_no_spaces(string extension)
    {
        var d = Perl();
        d.Extension = extension;
        Assert.Contains("extension", Invalid(d).Message);
    }

    [Fact]
    public void A_double_extension_is_allowed()
    {
        var d = Perl();
        d.Extension = ".test.pl";
        d.Validate();
    }

    [Theory]
    [InlineData("")]
    [InlineData("perl 5")]
    [InlineData("-perl")]
    [InlineData("perl/5")]
    public void Names_are_words(string name) => Invalid(Perl(name));

    [Fact]
    public void Aliases_are_words()
    {
        var d = Perl();
        d.Aliases = new[] { "ok", "not ok" };
        Assert.Contains("'not ok'", Invalid(d).Message);
    }

    [Fact]
    public void The_image_is_required_and_must_be_a_reference()
    {
        var d = Perl();
        d.Image = " ";
        Invalid(d);
        d.Image = "Not A Reference";
        Assert.Equal("InvalidImageReference", Assert.Throws<SandboxException>(d.Validate).ErrorId);
    }

    [Fact]
    public void Detect_files_are_names_in_the_top_folder()
    {
        var d = Perl();
        d.DetectFiles = new[] { "cpanfile", "*.pm" };
        d.Validate();
        d.DetectFiles = new[] { "lib/cpanfile" };
        Invalid(d);
    }

    [Theory]
    [InlineData(new[] { "python3", "{file}" }, "python3")]
    [InlineData(new[] { "/usr/bin/python3", "{file}" }, "/usr/bin/python3")]
    [InlineData(new[] { "/usr/bin/env", "python3", "{file}" }, "python3")]
    [InlineData(new[] { "dotnet", "run", "{file}" }, "dotnet")]
    public void The_interpreter_is_the_program_or_what_env_starts(string[] runCommand, string expected)
    {
        var d = Perl();
        d.RunCommand = runCommand;
        Assert.Equal(expected, d.Interpreter);
    }
}

public sealed class CodeRunnerTests
{
    static LanguageDefinition Language(params string[] runCommand) => new LanguageDefinition
    {
        Name = "x", Extension = ".x", Image = "img", RunCommand = runCommand,
    };

    [Fact]
    public void The_file_replaces_the_placeholder_and_the_arguments_follow_as_they_are()
    {
        var argv = CodeRunner.BuildArgv(Language("python3", "-u", "{file}"), "/tmp/.sandbox-code/a.py", new[] { "one", "two words", "$HOME; rm -rf /", "" });
        Assert.Equal(new[] { "python3", "-u", "/tmp/.sandbox-code/a.py", "one", "two words", "$HOME; rm -rf /", "" }, argv);
    }

    [Fact]
    public void The_placeholder_may_be_part_of_an_argument_and_appear_twice()
    {
        var argv = CodeRunner.BuildArgv(Language("sh", "-c", "cp {file} /tmp/main.c && cc /tmp/main.c && ./a.out", "{file}"), "/f.c", null);
        Assert.Equal(new[] { "sh", "-c", "cp /f.c /tmp/main.c && cc /tmp/main.c && ./a.out", "/f.c" }, argv);
    }

    [Fact]
    public void Without_arguments_the_run_command_is_all()
    {
        var argv = CodeRunner.BuildArgv(Language("node", "{file}"), "/f.js", Array.Empty<string>());
        Assert.Equal(new[] { "node", "/f.js" }, argv);
    }

    [Fact]
    public void Each_run_gets_an_unguessable_file_in_the_code_folder_with_the_language_extension()
    {
        var a = CodeRunner.NewCodeFilePath(".py");
        var b = CodeRunner.NewCodeFilePath(".py");
        Assert.NotEqual(a, b);
        Assert.Matches(@"^/tmp/\.sandbox-code/[0-9a-f]{32}\.py$", a);
        Assert.StartsWith(CodeRunner.CodeFolder + "/", b);
    }

    [Theory]
    [InlineData("/usr/bin/env: 'python3': No such file or directory", "python3", true)]
    [InlineData("env: ‘python3’: No such file or directory", "python3", true)]
    [InlineData("sh: 1: python3: not found", "python3", true)]
    [InlineData("bash: line 1: python3: command not found", "python3", true)]
    [InlineData("sh: 1: python3: not found", "sh", false)]
    [InlineData("python3: not found", "python3", true)]
    [InlineData("/bin/sh: python3: not found", "/usr/bin/python3", true)]
    [InlineData("/usr/bin/python3: not found", "python3", true)]
    [InlineData("/tmp/.sandbox-code/ab.sh: 1: foo: not found", "/bin/sh", false)]
    [InlineData("/tmp/.sandbox-code/ab.sh: line 1: foo: command not found", "bash", false)]
    [InlineData("python3: can't open file '/tmp/x.py': [Errno 2] No such file or directory", "python3", false)]
    [InlineData("Traceback: FileNotFoundError", "python3", false)]
    public void A_launcher_that_cannot_find_the_interpreter_is_recognised(string line, string interpreter, bool expected) =>
        Assert.Equal(expected, CodeRunner.SaysInterpreterNotFound(line, interpreter));
}
