using System;
using System.Collections.Generic;
using Docker.DotNet.Models;
using Sandbox.Observe;
using Xunit;

namespace Sandbox.Tests;

public class StatsCalculatorTests
{
    [Fact]
    public void CpuPercent_is_the_containers_share_of_the_host_interval_times_the_cpus_online()
    {
        // 0.5 s of CPU in 2 s of host CPU time (two CPUs for one second) is a quarter of the host: 50 % of one CPU.
        Assert.Equal(50.0, StatsCalculator.CpuPercent(1_000_000_000, 10_000_000_000, 1_500_000_000, 12_000_000_000, 2, 0), 6);
    }

    [Fact]
    public void CpuPercent_counts_per_cpu_entries_when_the_engine_gives_no_online_count()
    {
        Assert.Equal(200.0, StatsCalculator.CpuPercent(0, 1000, 1000, 5000, null, 8), 6);
        Assert.Equal(200.0, StatsCalculator.CpuPercent(0, 1000, 1000, 5000, 0, 8), 6);
    }

    [Theory]
    [InlineData(100UL, 1000UL, 100UL, 2000UL)]   // no CPU used
    [InlineData(100UL, 1000UL, 200UL, 1000UL)]   // no host time passed
    [InlineData(200UL, 1000UL, 100UL, 2000UL)]   // counters went back (a restart)
    public void CpuPercent_is_zero_without_positive_deltas(ulong previousTotal, ulong previousSystem, ulong total, ulong system)
    {
        Assert.Equal(0.0, StatsCalculator.CpuPercent(previousTotal, previousSystem, total, system, 2, 2));
    }

    [Fact]
    public void CpuPercent_is_zero_without_a_previous_sample_of_the_host()
    {
        Assert.Equal(0.0, StatsCalculator.CpuPercent(0, null, 100, null, 2, 2));
    }

    [Fact]
    public void MemoryUsed_leaves_out_inactive_file_pages_on_cgroup_v1()
    {
        var stats = new Dictionary<string, ulong> { ["total_inactive_file"] = 300, ["cache"] = 700, ["inactive_file"] = 5 };
        Assert.Equal(700UL, StatsCalculator.MemoryUsed(1000, stats));
    }

    [Fact]
    public void MemoryUsed_leaves_out_inactive_file_pages_on_cgroup_v2()
    {
        Assert.Equal(600UL, StatsCalculator.MemoryUsed(1000, new Dictionary<string, ulong> { ["inactive_file"] = 400, ["file"] = 900 }));
    }

    [Fact]
    public void MemoryUsed_is_usage_when_inactive_file_is_not_smaller_or_not_given()
    {
        Assert.Equal(1000UL, StatsCalculator.MemoryUsed(1000, new Dictionary<string, ulong> { ["total_inactive_file"] = 1000 }));
        Assert.Equal(1000UL, StatsCalculator.MemoryUsed(1000, new Dictionary<string, ulong>()));
        Assert.Equal(1000UL, StatsCalculator.MemoryUsed(1000, null));
    }

    [Fact]
    public void MemoryPercent_is_of_the_limit_and_zero_without_one()
    {
        Assert.Equal(25.0, StatsCalculator.MemoryPercent(256, 1024), 6);
        Assert.Equal(0.0, StatsCalculator.MemoryPercent(256, 0));
    }

    [Fact]
    public void BlockIo_sums_reads_and_writes_over_devices_in_any_case()
    {
        var entries = new List<BlkioStatEntry>
        {
            new() { Major = 8, Minor = 0, Op = "Read", Value = 100 },
            new() { Major = 8, Minor = 0, Op = "Write", Value = 10 },
            new() { Major = 8, Minor = 0, Op = "Sync", Value = 999 },
            new() { Major = 8, Minor = 0, Op = "Total", Value = 110 },
            new() { Major = 8, Minor = 16, Op = "read", Value = 1 },
            new() { Major = 8, Minor = 16, Op = "write", Value = 2 },
            new() { Major = 8, Minor = 16, Op = "", Value = 7 },
        };
        Assert.Equal((101UL, 12UL), StatsCalculator.BlockIo(entries));
        Assert.Equal((0UL, 0UL), StatsCalculator.BlockIo(null));
    }

    [Fact]
    public void Network_sums_over_the_containers_networks()
    {
        var networks = new Dictionary<string, NetworkStats>
        {
            ["eth0"] = new() { RxBytes = 1000, TxBytes = 10 },
            ["eth1"] = new() { RxBytes = 24, TxBytes = 5 },
        };
        Assert.Equal((1024UL, 15UL), StatsCalculator.Network(networks));
        Assert.Equal((0UL, 0UL), StatsCalculator.Network(null));
    }

    [Fact]
    public void ToStats_turns_an_engine_reading_into_the_sandboxs_numbers()
    {
        var sandbox = new Sandbox { Id = new string('a', 64), Name = "box", DockerHost = "ssh://u@h" };
        var read = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var response = new ContainerStatsResponse
        {
            Read = read,
            PreCPUStats = new CPUStats { CPUUsage = new CPUUsage { TotalUsage = 1_000 }, SystemUsage = 100_000, OnlineCPUs = 2 },
            CPUStats = new CPUStats { CPUUsage = new CPUUsage { TotalUsage = 11_000 }, SystemUsage = 200_000, OnlineCPUs = 2 },
            MemoryStats = new MemoryStats { Usage = 3_000_000, Limit = 16_777_216, Stats = new Dictionary<string, ulong> { ["total_inactive_file"] = 1_000_000 } },
            PidsStats = new PidsStats { Current = 4 },
            Networks = new Dictionary<string, NetworkStats> { ["eth0"] = new() { RxBytes = 90, TxBytes = 80 } },
            BlkioStats = new BlkioStats { IoServiceBytesRecursive = new List<BlkioStatEntry> { new() { Op = "Read", Value = 7 }, new() { Op = "Write", Value = 9 } } },
        };

        var stats = StatsCalculator.ToStats(response, sandbox);

        Assert.Equal("box", stats.Name);
        Assert.Equal("aaaaaaaaaaaa", stats.ShortId);
        Assert.Equal("ssh://u@h", stats.DockerHost);
        Assert.Equal(read, stats.Time);
        Assert.Equal(20.0, stats.CpuPercent, 6);
        Assert.Equal(2_000_000, stats.MemoryUsedBytes);
        Assert.Equal(16_777_216, stats.MemoryLimitBytes);
        Assert.Equal(2_000_000 / 16_777_216.0 * 100, stats.MemoryPercent, 6);
        Assert.Equal(4, stats.Pids);
        Assert.Equal((90, 80), (stats.NetworkRxBytes, stats.NetworkTxBytes));
        Assert.Equal((7, 9), (stats.BlockReadBytes, stats.BlockWriteBytes));
        Assert.True(StatsCalculator.HasPreviousSample(response));
    }

    [Fact]
    public void The_first_reading_of_a_stream_has_no_previous_sample()
    {
        Assert.False(StatsCalculator.HasPreviousSample(new ContainerStatsResponse { PreCPUStats = new CPUStats { CPUUsage = new CPUUsage() } }));
        Assert.False(StatsCalculator.HasPreviousSample(new ContainerStatsResponse()));
    }
}
