using System;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class IdleDeadlineTests
{
    static readonly DateTime Used = new DateTime(2026, 12, 5, 3, 0, 0, 400, DateTimeKind.Utc);

    [Fact]
    public void A_use_pushes_the_deadline_to_then_plus_the_idle_timeout_rounded_up_to_the_second_of_the_file()
    {
        Assert.Equal(new DateTime(2026, 12, 5, 3, 0, 11, DateTimeKind.Utc), SandboxDeadlines.IdleDeadline(Used, 10, null));
        Assert.Equal(new DateTime(2026, 12, 5, 3, 0, 10, DateTimeKind.Utc), SandboxDeadlines.IdleDeadline(Used.AddMilliseconds(-400), 10, null));
    }

    [Fact]
    public void Never_past_the_hard_deadline()
    {
        var hard = Used.AddSeconds(5);
        Assert.Equal(hard, SandboxDeadlines.IdleDeadline(Used.AddSeconds(2), 4, hard));
        Assert.Equal(new DateTime(2026, 12, 5, 3, 0, 5, DateTimeKind.Utc), SandboxDeadlines.IdleDeadline(Used, 4, hard.AddSeconds(1)));
    }

    [Fact]
    public void A_new_idle_sandbox_starts_with_its_idle_deadline_and_without_one_with_its_timeout()
    {
        Assert.Equal(SandboxDeadlines.IdleDeadline(Used, 3, Used.AddSeconds(60)), SandboxDeadlines.FirstDeadline(60, 3, Used));
        Assert.Equal(Used.AddSeconds(60), SandboxDeadlines.FirstDeadline(60, 0, Used));
        Assert.Equal(Used.AddSeconds(2), SandboxDeadlines.FirstDeadline(2, 30, Used));
        Assert.Equal(SandboxDeadlines.IdleDeadline(Used, 3, null), SandboxDeadlines.FirstDeadline(0, 3, Used));
    }
}
