using Xunit;

namespace Sandbox.Tests;

/// <summary>A [Fact] that shows as skipped, with the reason, where one of its prerequisites is missing.</summary>
public sealed class FactNeedingAttribute : FactAttribute
{
    public FactNeedingAttribute(params Prerequisite[] needs) => Skip = Prerequisites.SkipReason(needs);
}
