using System.Text;
using Sandbox.Exec;
using Xunit;

namespace Sandbox.Tests;

public class PipelineInputFeedTests
{
    int _freed;

    PipelineInputFeed Feed(int capacity = 10) => new(() => Interlocked.Increment(ref _freed), capacity);

    static async Task<string> ReadAllAsync(PipelineInputFeed feed)
    {
        var text = new StringBuilder();
        var buffer = new byte[3];
        int n;
        while ((n = await feed.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None)) > 0) text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        return text.ToString();
    }

    [Fact]
    public async Task Reads_what_was_written_in_order_then_the_end_once_completed()
    {
        var feed = Feed();
        Assert.True(feed.TryWrite(Encoding.UTF8.GetBytes("ab\n")));
        Assert.True(feed.TryWrite(Encoding.UTF8.GetBytes("cd\n")));
        feed.Complete();
        Assert.Equal("ab\ncd\n", await ReadAllAsync(feed));
        Assert.True(_freed > 0);
    }

    [Fact]
    public async Task Refuses_data_while_full_and_takes_it_once_the_reader_made_room()
    {
        var feed = Feed(capacity: 4);
        Assert.True(feed.TryWrite(new byte[] { 1, 2, 3 }));
        Assert.False(feed.TryWrite(new byte[] { 4, 5 }));
        var buffer = new byte[2];
        Assert.Equal(2, await feed.ReadAsync(buffer, 0, 2, CancellationToken.None));
        Assert.Equal(1, _freed);
        Assert.True(feed.TryWrite(new byte[] { 4, 5 }));
    }

    [Fact]
    public void Takes_a_chunk_larger_than_its_capacity_when_empty()
    {
        var feed = Feed(capacity: 4);
        Assert.True(feed.TryWrite(new byte[100]));
        Assert.False(feed.TryWrite(new byte[1]));
    }

    [Fact]
    public async Task A_read_waits_for_data()
    {
        var feed = Feed();
        var buffer = new byte[8];
        var read = feed.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None);
        Assert.False(read.IsCompleted);
        feed.TryWrite(new byte[] { 42 });
        Assert.Equal(1, await read);
        Assert.Equal(42, buffer[0]);
    }

    [Fact]
    public async Task A_waiting_read_ends_when_cancelled()
    {
        var feed = Feed();
        using var cancel = new CancellationTokenSource();
        var read = feed.ReadAsync(new byte[8], 0, 8, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task Once_abandoned_it_drops_what_it_holds_and_whatever_comes()
    {
        var feed = Feed(capacity: 4);
        feed.TryWrite(new byte[] { 1, 2, 3, 4 });
        feed.Abandon();
        Assert.True(feed.TryWrite(new byte[] { 5, 6, 7, 8, 9 }));
        Assert.Equal(0, await feed.ReadAsync(new byte[8], 0, 8, CancellationToken.None));
    }
}
