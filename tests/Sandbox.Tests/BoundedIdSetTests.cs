using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public sealed class BoundedIdSetTests
{
    [Fact]
    public void Says_whether_an_id_is_new_and_forgets_the_oldest_beyond_its_capacity()
    {
        var set = new BoundedIdSet(2);
        Assert.True(set.Add("a"));
        Assert.False(set.Add("a"));
        Assert.True(set.Add("b"));
        Assert.True(set.Add("c"));
        Assert.Equal(2, set.Count);
        Assert.True(set.Add("a"), "'a' was the oldest and was forgotten");
    }
}
