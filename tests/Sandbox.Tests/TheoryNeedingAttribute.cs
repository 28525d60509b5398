using Xunit;

namespace Sandbox.Tests;

/// <summary>A [Theory] whose cases show as skipped, with the reason, where one of its prerequisites is missing.</summary>
public sealed class TheoryNeedingAttribute : TheoryAttribute
{
    public TheoryNeedingAttribute(params Prerequisite[] needs) => Skip = Prerequisites.SkipReason(needs);
}
