#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# -AsJob on New-Sandbox, Invoke-SandboxCommand and Copy-SandboxItem, with the job cmdlets a user reaches for:
# Get-Job, Wait-Job, Receive-Job, Stop-Job, Remove-Job; and progress that reaches the job.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'jobs'
    $prefix = Get-TestPrefix
    $sandbox = New-Sandbox -Name "$prefix-main"

    # Processes in the sandbox whose command line is exactly $Command.
    function Get-SandboxProcess([string] $Command) {
        @(docker exec $sandbox.Name ps -o args | Where-Object { $_.Trim() -eq $Command })
    }
}

AfterAll {
    Get-Job | Where-Object PSJobTypeName -EQ 'SandboxJob' | Remove-Job -Force
    Complete-SandboxTest
}

Describe 'Jobs: New-Sandbox -AsJob' {

    It 'returns a running job at once, which Get-Job lists and Receive-Job turns into the sandbox' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $job = New-Sandbox -Name "$prefix-job" -AsJob
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
        $job | Should -BeOfType ([System.Management.Automation.Job])
        $job.PSJobTypeName | Should -Be 'SandboxJob'
        $job.Command | Should -BeLike "New-Sandbox -Name '$prefix-job'*"
        (Get-Job -Id $job.Id).InstanceId | Should -Be $job.InstanceId

        $made = $job | Receive-Job -Wait -AutoRemoveJob -ErrorVariable errors
        $errors | Should -BeNullOrEmpty
        $made | Should -HaveCount 1
        $made | Should -BeOfType ([Sandbox.Sandbox])   # the object itself, not a deserialized copy
        $made.Name | Should -Be "$prefix-job"
        (Get-ContainerInspect $made.Id).State.Running | Should -BeTrue
        Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty   # -AutoRemoveJob removed it
        $made | Stop-Sandbox
    }

    It 'resolves a relative -Path against the current location, runs -OnStart in the job and -OnKill in this session' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'newjob/code') -Force
        Set-Content -LiteralPath (Join-Path $work 'marker.txt') -Value 'from the caller'
        $started = Join-Path $TestDrive 'started.txt'
        $killed = Join-Path $TestDrive 'killed.txt'
        Push-Location (Split-Path $work)
        try {
            $job = New-Sandbox -Name "$prefix-hooks" -Path ./code -AsJob -OnStart (New-FileHook $started) -OnKill (New-FileHook $killed)
        } finally { Pop-Location }
        $made = $job | Receive-Job -Wait -AutoRemoveJob
        $made.CodePath | Should -Be $work.FullName
        $made | Invoke-SandboxCommand 'cat marker.txt' | Should -Be 'from the caller'
        Get-Content -LiteralPath $started | Should -Contain "dollar_=$prefix-hooks"

        Test-Path -LiteralPath $killed | Should -BeFalse
        $made | Stop-Sandbox
        Get-Content -LiteralPath $killed | Should -Contain "args0=$prefix-hooks"
    }

    It 'shows an image pull as the job''s progress' {
        if (-not $env:SANDBOX_TEST_REGISTRY_IMAGE) { Set-ItResult -Skipped -Because 'the test registry (tests/setup/Start-TestRegistry.sh) is not running'; return }
        # A tag of its own in the local registry, so that no other test's image is removed or pulled meanwhile.
        $registry = ($env:SANDBOX_TEST_REGISTRY_IMAGE -split '/')[0]
        $image = '{0}/{1}:latest' -f $registry, $prefix
        docker tag (Get-TestImage) $image
        docker push -q $image *> $null
        docker rmi $image *> $null
        try {
            $job = New-Sandbox -Name "$prefix-pulled" -Image $image -AsJob
            $job | Wait-Job -Timeout 120 | Should -Not -BeNullOrEmpty
            $pulls = @($job.Progress | Where-Object Activity -Like "Pulling image $image*")   # before Receive-Job takes them
            $pulls.Count | Should -BeGreaterThan 0
            @($pulls | Where-Object RecordType -EQ 'Completed').Count | Should -Be 1
            $made = $job | Receive-Job -AutoRemoveJob -Wait -ErrorVariable errors
            $errors | Should -BeNullOrEmpty
            $made.Image | Should -Be $image
            $made | Stop-Sandbox
        } finally {
            docker rmi -f $image *> $null
        }
    }

    It 'fails the job with the error when New-Sandbox stops (-ErrorAction Stop)' {
        $job = New-Sandbox -Name "$prefix-bad" -Path (Join-Path $TestDrive 'no-such-folder') -AsJob -ErrorAction Stop
        $job | Wait-Job -Timeout 60 | Should -Not -BeNullOrEmpty
        $job.State | Should -Be 'Failed'
        $null = $job | Receive-Job -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike "PathNotFound*"
        Test-ContainerExists "$prefix-bad" | Should -BeFalse
        $job | Remove-Job
    }
}

Describe 'Jobs: Invoke-SandboxCommand -AsJob' {

    It 'runs the command in the background; Receive-Job gets its output, stderr and result' {
        $job = $sandbox | Invoke-SandboxCommand 'sleep 1; echo out; echo err >&2; exit 3' -PassThru -AsJob
        $job.State | Should -BeIn 'NotStarted', 'Running'
        $job.Location | Should -Be $sandbox.DockerHost
        $job | Wait-Job -Timeout 60 | Should -Not -BeNullOrEmpty
        $job.State | Should -Be 'Completed'
        $output = $job | Receive-Job -InformationVariable info 6>$null
        $output[0] | Should -Be 'out'
        $output[-1] | Should -BeOfType ([Sandbox.SandboxCommandResult])
        $output[-1].ExitCode | Should -Be 3
        $output[-1].StdErr | Should -Be "err`n"
        ($info | Where-Object Tags -Contains 'stderr').MessageData.ToString() | Should -Be 'err'
        $job.HasMoreData | Should -BeFalse
        $job | Remove-Job
    }

    It 'gives a slow Receive-Job consumer every line of a large output' {
        $job = $sandbox | Invoke-SandboxCommand 'seq 1 200000; echo END' -AsJob
        $count = 0
        $lines = $job | Receive-Job -Wait -AutoRemoveJob |
            ForEach-Object { $count++; if ($count % 50000 -eq 0) { Start-Sleep -Milliseconds 500 }; $_ }
        $lines | Should -HaveCount 200001
        $lines[199999] | Should -Be '200000'
        $lines[-1] | Should -Be 'END'
    }

    It 'takes every sandbox from the pipeline into one job' {
        $other = New-Sandbox -Name "$prefix-other"
        $job = $sandbox, $other | Invoke-SandboxCommand 'hostname' -AsJob
        $job | Should -HaveCount 1
        $lines = $job | Receive-Job -Wait -AutoRemoveJob
        $lines | Should -HaveCount 2
        $other | Stop-Sandbox
    }

    It 'takes -Name and -ProjectId by property name from the pipeline' {
        $job = [pscustomobject]@{ Name = $sandbox.Name } | Invoke-SandboxCommand 'echo by-name' -AsJob
        $job | Receive-Job -Wait -AutoRemoveJob | Should -Be 'by-name'
    }

    It 'writes SandboxNotFound into the job for a sandbox that does not exist' {
        $job = Invoke-SandboxCommand -Name "$prefix-missing" -Command 'true' -AsJob
        $null = $job | Receive-Job -Wait -AutoRemoveJob -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound*'
    }

    It 'is waited for with Wait-Job -Timeout' {
        $job = $sandbox | Invoke-SandboxCommand 'sleep 3; echo done' -AsJob
        $job | Wait-Job -Timeout 1 | Should -BeNullOrEmpty
        $job.State | Should -Be 'Running'
        $job | Wait-Job -Timeout 60 | Should -Not -BeNullOrEmpty
        $job | Receive-Job -AutoRemoveJob -Wait | Should -Be 'done'
    }

    It 'Stop-Job kills the command inside the sandbox' {
        $job = $sandbox | Invoke-SandboxCommand 'sleep 60' -AsJob
        Wait-Until -TimeoutSec 20 { (Get-SandboxProcess 'sleep 60').Count -gt 0 } | Should -BeTrue
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $job | Stop-Job
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
        $job.State | Should -Be 'Stopped'
        Get-SandboxProcess 'sleep 60' | Should -BeNullOrEmpty
        $job | Remove-Job
    }

    It 'Remove-Job -Force stops a running job the same way' {
        $job = $sandbox | Invoke-SandboxCommand 'sleep 61' -AsJob
        Wait-Until -TimeoutSec 20 { (Get-SandboxProcess 'sleep 61').Count -gt 0 } | Should -BeTrue
        $job | Remove-Job -Force
        Get-SandboxProcess 'sleep 61' | Should -BeNullOrEmpty
        Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Stop-Job right after the start stops the job before it runs anything' {
        $job = $sandbox | Invoke-SandboxCommand 'sleep 62' -AsJob
        $job | Stop-Job
        $job.State | Should -Be 'Stopped'
        Start-Sleep -Milliseconds 500
        Get-SandboxProcess 'sleep 62' | Should -BeNullOrEmpty
        $job | Remove-Job
    }
}

Describe 'Jobs: Copy-SandboxItem -AsJob' {

    It 'copies a large file in the background and reports the bytes as the job''s progress, ending on all of them' {
        $file = Join-Path $TestDrive 'big.bin'
        $data = [byte[]]::new(24MB)
        [System.Random]::new(5).NextBytes($data)
        [System.IO.File]::WriteAllBytes($file, $data)
        $job = $sandbox | Copy-SandboxItem -Path $file -Destination /tmp -PassThru -AsJob
        $job | Wait-Job -Timeout 120 | Should -Not -BeNullOrEmpty
        $copies = @($job.Progress | Where-Object Activity -Like "Copying into $($sandbox.Name)*")   # before Receive-Job takes them
        # How many records come in between depends on how fast the machine copies; the last one before Completed
        # shows every byte, however fast it went.
        $shown = @($copies | Where-Object RecordType -EQ 'Processing')
        $shown.Count | Should -BeGreaterThan 0
        $shown[-1].StatusDescription | Should -Be '24MB of 24MB, 1 files'
        $shown[-1].PercentComplete | Should -Be 100
        $copies[-1].RecordType | Should -Be 'Completed'
        @($copies | Where-Object RecordType -EQ 'Completed').Count | Should -Be 1
        $written = $job | Receive-Job -AutoRemoveJob -Wait -ErrorVariable errors
        $errors | Should -BeNullOrEmpty
        $written | Should -Be '/tmp/big.bin'
        $sandbox | Invoke-SandboxCommand 'wc -c < /tmp/big.bin' | Should -Be ([string]$data.Length)
    }

    It 'copies out into a folder relative to the current location' {
        $sandbox | Invoke-SandboxCommand 'mkdir -p /tmp/out && echo result > /tmp/out/result.txt'
        $target = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'copyout') -Force
        Push-Location $target
        try {
            $job = Copy-SandboxItem -Name $sandbox.Name -FromSandbox -Path /tmp/out -Destination . -Recurse -AsJob
        } finally { Pop-Location }
        $null = $job | Receive-Job -Wait -AutoRemoveJob -ErrorVariable errors
        $errors | Should -BeNullOrEmpty
        Get-Content -LiteralPath (Join-Path $target 'out/result.txt') | Should -Be 'result'
    }
}
