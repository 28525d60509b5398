using System.Collections;
using Docker.DotNet.Models;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class ResourceLimitsTests
{
    static ResourceLimits Applied(Hashtable table)
    {
        var limits = ResourceLimits.Defaults();
        limits.Apply(table);
        return limits;
    }

    static SandboxException Refused(Hashtable table)
    {
        var limits = ResourceLimits.Defaults();
        var e = Assert.Throws<SandboxException>(() => { limits.Apply(table); limits.Normalize(); });
        Assert.Equal("InvalidLimit", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
        return e;
    }

    [Fact]
    public void Defaults_are_the_seeds_1GiB_1CPU_100pids()
    {
        var d = ResourceLimits.Defaults();
        Assert.Equal(1L << 30, d.Memory);
        Assert.Equal(1_000_000_000L, d.NanoCpus);
        Assert.Equal(100L, d.PidsLimit);
        Assert.Equal(0L, d.MemorySwap);
        Assert.Empty(d.StorageOpt);
        Assert.Empty(d.Ulimits);
    }

    [Fact]
    public void Seed_keys_are_read()
    {
        var l = Applied(new Hashtable
        {
            ["mem_limit"] = "512m",
            ["memswap_limit"] = "1g",
            ["nano_cpus"] = 500_000_000,
            ["pids_limit"] = 50,
            ["shm_size"] = "64m",
            ["mem_reservation"] = "256m",
            ["cpu_shares"] = 512,
            ["cpuset_cpus"] = "0-1",
            ["blkio_weight"] = 300,
            ["oom_kill_disable"] = true,
        });
        Assert.Equal(512L << 20, l.Memory);
        Assert.Equal(1L << 30, l.MemorySwap);
        Assert.Equal(500_000_000L, l.NanoCpus);
        Assert.Equal(50L, l.PidsLimit);
        Assert.Equal(64L << 20, l.ShmSize);
        Assert.Equal(256L << 20, l.MemoryReservation);
        Assert.Equal(512L, l.CpuShares);
        Assert.Equal("0-1", l.CpusetCpus);
        Assert.Equal((ushort)300, l.BlkioWeight);
        Assert.True(l.OomKillDisable);
    }

    [Fact]
    public void Mem_limit_takes_plain_bytes_and_powershell_numbers()
    {
        Assert.Equal(1L << 30, Applied(new Hashtable { ["mem_limit"] = 1073741824 }).Memory);
        Assert.Equal(2L << 30, Applied(new Hashtable { ["mem_limit"] = 2L << 30 }).Memory);
        Assert.Equal(3L << 29, Applied(new Hashtable { ["mem_limit"] = "1.5g" }).Memory);
    }

    [Fact]
    public void Cpus_is_converted_to_nano_cpus()
    {
        Assert.Equal(1_500_000_000L, Applied(new Hashtable { ["cpus"] = 1.5 }).NanoCpus);
        Assert.Equal(2_000_000_000L, Applied(new Hashtable { ["cpus"] = "2" }).NanoCpus);
        Assert.Equal(500_000_000L, Applied(new Hashtable { ["cpus"] = 0.5m }).NanoCpus);
    }

    [Fact]
    public void Cpu_quota_and_period_clear_nano_cpus_on_normalize()
    {
        var l = Applied(new Hashtable { ["cpu_quota"] = 50_000, ["cpu_period"] = 100_000 });
        Assert.Equal(1_000_000_000L, l.NanoCpus);   // the default is still there until Normalize
        l.Normalize();
        Assert.Equal(0L, l.NanoCpus);
        Assert.Equal(50_000L, l.CpuQuota);
        Assert.Equal(100_000L, l.CpuPeriod);
    }

    [Fact]
    public void Normalize_keeps_nano_cpus_without_a_quota()
    {
        var l = ResourceLimits.Defaults();
        l.Normalize();
        Assert.Equal(1_000_000_000L, l.NanoCpus);
    }

    [Fact]
    public void Storage_opt_as_hashtable()
    {
        var l = Applied(new Hashtable { ["storage_opt"] = new Hashtable { ["size"] = "10G" } });
        Assert.Equal("10G", l.StorageOpt["size"]);
    }

    [Fact]
    public void Storage_opt_as_string()
    {
        var l = Applied(new Hashtable { ["storage_opt"] = "size=10G" });
        Assert.Equal("10G", Assert.Single(l.StorageOpt).Value);
        var two = Applied(new Hashtable { ["storage_opt"] = "size=10G, foo=bar" });
        Assert.Equal("bar", two.StorageOpt["foo"]);
        Assert.Equal(2, two.StorageOpt.Count);
    }

    [Fact]
    public void Storage_opt_bad_string_is_refused()
    {
        var e = Refused(new Hashtable { ["storage_opt"] = "size" });
        Assert.Equal("storage_opt", e.Target);
    }

    [Fact]
    public void Ulimits_soft_hard_and_single_value()
    {
        var l = Applied(new Hashtable { ["ulimits"] = new Hashtable { ["nofile"] = "1024:2048", ["nproc"] = 64 } });
        var nofile = Assert.Single(l.Ulimits, u => u.Name == "nofile");
        Assert.Equal(1024L, nofile.Soft);
        Assert.Equal(2048L, nofile.Hard);
        var nproc = Assert.Single(l.Ulimits, u => u.Name == "nproc");
        Assert.Equal(64L, nproc.Soft);
        Assert.Equal(64L, nproc.Hard);
    }

    [Theory]
    [InlineData("nofile:1024")]   // not a hashtable
    public void Ulimits_not_a_table_is_refused(string value)
    {
        Refused(new Hashtable { ["ulimits"] = value });
    }

    [Fact]
    public void Ulimits_soft_above_hard_is_refused()
    {
        Refused(new Hashtable { ["ulimits"] = new Hashtable { ["nofile"] = "4096:1024" } });
        Refused(new Hashtable { ["ulimits"] = new Hashtable { ["nofile"] = "many" } });
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("Memory")]
    [InlineData("MEM_LIMIT")]
    [InlineData("mem")]
    public void Memory_aliases(string key)
    {
        Assert.Equal(256L << 20, Applied(new Hashtable { [key] = "256m" }).Memory);
    }

    [Theory]
    [InlineData("pids")]
    [InlineData("PidsLimit")]
    [InlineData("pids_limit")]
    public void Pids_aliases(string key)
    {
        Assert.Equal(42L, Applied(new Hashtable { [key] = 42 }).PidsLimit);
    }

    [Fact]
    public void Other_aliases()
    {
        var l = Applied(new Hashtable { ["NanoCpus"] = 2_000_000_000L, ["ShmSize"] = "1g", ["memory_swap"] = -1, ["StorageOpt"] = "size=1G" });
        Assert.Equal(2_000_000_000L, l.NanoCpus);
        Assert.Equal(1L << 30, l.ShmSize);
        Assert.Equal(-1L, l.MemorySwap);
        Assert.Equal("1G", l.StorageOpt["size"]);
    }

    [Fact]
    public void Minus_one_means_unlimited_for_pids_and_swap()
    {
        var l = Applied(new Hashtable { ["pids_limit"] = -1, ["memswap_limit"] = "-1" });
        Assert.Equal(-1L, l.PidsLimit);
        Assert.Equal(-1L, l.MemorySwap);
        l.Normalize();   // -1 swap is not "less than memory"
    }

    [Fact]
    public void Unknown_key_is_InvalidLimit_naming_the_key()
    {
        var e = Refused(new Hashtable { ["bogus"] = 1 });
        Assert.Equal("bogus", e.Target);
        Assert.Contains("'bogus'", e.Message);
        Assert.Contains("mem_limit", e.Message);   // says what would work
    }

    [Theory]
    [InlineData("mem_limit", -1)]
    [InlineData("mem_limit", "lots")]
    [InlineData("mem_limit", "3m")]            // below Docker's 6 MB minimum
    [InlineData("mem_limit", 3145728)]
    [InlineData("cpus", 0)]
    [InlineData("cpus", -1.5)]
    [InlineData("cpus", "lots")]
    [InlineData("nano_cpus", 0)]
    [InlineData("nano_cpus", 1.5)]
    [InlineData("pids_limit", 0)]
    [InlineData("pids_limit", -5)]
    [InlineData("pids_limit", "lots")]
    [InlineData("shm_size", "lots")]
    [InlineData("cpu_period", 10)]
    [InlineData("cpu_quota", -1)]
    [InlineData("blkio_weight", 5)]
    [InlineData("cpuset_cpus", "a-b")]
    [InlineData("oom_kill_disable", "perhaps")]
    [InlineData("memswap_limit", "lots")]
    public void Invalid_values_are_InvalidLimit_naming_the_key(string key, object value)
    {
        var e = Refused(new Hashtable { [key] = value });
        Assert.Equal(key, e.Target);
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Null_value_is_refused()
    {
        Refused(new Hashtable { ["mem_limit"] = null });
        Refused(new Hashtable { ["cpus"] = null });
    }

    [Fact]
    public void Swap_below_memory_throws_on_normalize()
    {
        var l = Applied(new Hashtable { ["mem_limit"] = "1g", ["memswap_limit"] = "512m" });
        var e = Assert.Throws<SandboxException>(l.Normalize);
        Assert.Equal("InvalidLimit", e.ErrorId);
        Assert.Equal("memswap_limit", e.Target);
    }

    [Fact]
    public void Reservation_above_memory_throws_on_normalize()
    {
        var l = Applied(new Hashtable { ["mem_limit"] = "512m", ["mem_reservation"] = "1g" });
        var e = Assert.Throws<SandboxException>(l.Normalize);
        Assert.Equal("mem_reservation", e.Target);
    }

    [Fact]
    public void ApplyTo_sets_the_host_config()
    {
        var l = Applied(new Hashtable
        {
            ["mem_limit"] = "512m",
            ["memswap_limit"] = "1g",
            ["pids_limit"] = 50,
            ["cpu_quota"] = 50_000,
            ["cpu_period"] = 100_000,
            ["storage_opt"] = "size=10G",
            ["shm_size"] = "64m",
            ["ulimits"] = new Hashtable { ["nofile"] = "1024:2048" },
            ["cpuset_cpus"] = "0",
        });
        l.Normalize();
        var host = new HostConfig();
        l.ApplyTo(host);
        Assert.Equal(512L << 20, host.Memory);
        Assert.Equal(1L << 30, host.MemorySwap);
        Assert.Equal(50L, host.PidsLimit);
        Assert.Equal(0L, host.NanoCPUs);
        Assert.Equal(50_000L, host.CPUQuota);
        Assert.Equal(100_000L, host.CPUPeriod);
        Assert.NotNull(host.StorageOpt);
        Assert.Equal("10G", host.StorageOpt!["size"]);
        Assert.Equal(64L << 20, host.ShmSize);
        Assert.Equal("nofile", Assert.Single(host.Ulimits).Name);
        Assert.Equal("0", host.CpusetCpus);
    }

    [Fact]
    public void ApplyTo_with_defaults_sets_memory_cpu_and_pids_only()
    {
        var host = new HostConfig();
        ResourceLimits.Defaults().ApplyTo(host);
        Assert.Equal(1L << 30, host.Memory);
        Assert.Equal(1_000_000_000L, host.NanoCPUs);
        Assert.Equal(100L, host.PidsLimit);
        Assert.Null(host.StorageOpt);
        Assert.Null(host.Ulimits);
        Assert.Equal(0L, host.CPUQuota);
    }

    [Theory]
    [InlineData(0.5, 500_000_000L)]
    [InlineData(2.0, 2_000_000_000L)]
    [InlineData(0.01, 10_000_000L)]
    public void CpusToNano_converts(double cpus, long nano)
    {
        Assert.Equal(nano, ResourceLimits.CpusToNano("Cpus", cpus));
    }

    [Fact]
    public void CpusToNano_refuses_zero_and_too_many()
    {
        Assert.Equal("InvalidLimit", Assert.Throws<SandboxException>(() => ResourceLimits.CpusToNano("Cpus", 0.0)).ErrorId);
        Assert.Equal("InvalidLimit", Assert.Throws<SandboxException>(() => ResourceLimits.CpusToNano("Cpus", 5000.0)).ErrorId);
    }
}
