using Sandbox.Exec;
using Xunit;

namespace Sandbox.Tests;

public class CommandFormTests
{
    [Fact]
    public void No_command_says_what_to_give_and_not_not_both()
    {
        var problem = CommandForm.Problem(null, null);
        Assert.NotNull(problem);
        Assert.Equal("CommandRequired", problem!.ErrorId);
        Assert.Contains("No command was given", problem.Message);
        Assert.Contains("-ArgumentList", problem.Message);
        Assert.DoesNotContain("not both", problem.Message);
    }

    [Fact]
    public void A_blank_command_counts_as_none()
    {
        Assert.Equal("CommandRequired", CommandForm.Problem("   ", null)!.ErrorId);
    }

    [Fact]
    public void Both_forms_say_not_both()
    {
        var problem = CommandForm.Problem("ls", new[] { "ls" });
        Assert.NotNull(problem);
        Assert.Equal("CommandAndArgumentList", problem!.ErrorId);
        Assert.EndsWith("not both.", problem.Message);
    }

    [Theory]
    [InlineData("ls -la", false)]
    [InlineData(null, true)]
    [InlineData("   ", true)]
    public void One_form_is_fine(string? command, bool asArgv)
    {
        Assert.Null(CommandForm.Problem(command, asArgv ? new[] { "ls", "-la" } : null));
    }
}
