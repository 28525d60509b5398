#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'suspend'
    Assert-TestEndpoint -Name Local, Ssh

    function Get-EngineState([string] $Id) {
        $state = docker container inspect --format '{{.State.Status}}' $Id 2>$null
        if ($LASTEXITCODE -ne 0) { 'gone' } else { $state }
    }

    function Wait-Gone([string] $Id, [datetime] $Deadline) {
        # When the container was first seen gone (UTC), or $null when it outlived the deadline.
        while ([datetime]::UtcNow -lt $Deadline) {
            if (-not (Test-ContainerExists $Id)) { return [datetime]::UtcNow }
            Start-Sleep -Milliseconds 50
        }
        $null
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Suspend-Sandbox and Resume-Sandbox on <Name>' -ForEach (Get-TestEndpoints -Name Local, Ssh) {
    BeforeAll {
        $endpoint = $_
        $made = [System.Collections.Generic.List[string]]::new()
        function New-Suspendable([int] $Timeout) {
            $sandbox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName ('sus-' + $endpoint.Name.ToLowerInvariant())) -Timeout $Timeout -ErrorAction Stop }
            $made.Add($sandbox.Id)
            $sandbox
        }
    }

    AfterAll {
        foreach ($id in $made) { docker rm -f $id *> $null }
    }

    It 'pauses the sandbox, shows it suspended and freezes its remaining time, in this process and through Get-Sandbox' {
        $sandbox = New-Suspendable -Timeout 60
        Use-TestEndpoint $endpoint { $sandbox | Suspend-Sandbox }
        Get-EngineState $sandbox.Id | Should -Be 'paused'
        $sandbox.State | Should -Be 'suspended'
        $sandbox.SuspendedAt | Should -Not -BeNullOrEmpty
        $frozen = $sandbox.TimeLeft
        $frozen.TotalSeconds | Should -BeGreaterThan 55
        $frozen.TotalSeconds | Should -BeLessOrEqual 60
        # The clock stands still: a second and a half later the time left is the same, in a fresh object too.
        Start-Sleep -Milliseconds 1500
        $sandbox.TimeLeft | Should -Be $frozen
        $found = Use-TestEndpoint $endpoint { Get-Sandbox -DockerHost $DockerHost -Name $sandbox.Name }
        $found.State | Should -Be 'suspended'
        [math]::Abs(($found.TimeLeft - $frozen).TotalSeconds) | Should -BeLessThan 0.01
        # The default -MaxSuspend is an hour: a still-suspended sandbox is removed then.
        ($found.SuspendExpiresAt - $found.SuspendedAt).TotalSeconds | Should -BeGreaterOrEqual 3599
        # The file holds whole seconds on the engine's clock, rounded up; the engine's clock offset is known to within a
        # few hundredths (3601.06 s was seen), so the bound is the second of rounding plus half a second.
        ($found.SuspendExpiresAt - $found.SuspendedAt).TotalSeconds | Should -BeLessOrEqual 3601.5

        Use-TestEndpoint $endpoint { $sandbox | Resume-Sandbox }
        Get-EngineState $sandbox.Id | Should -Be 'running'
        $sandbox.State | Should -Be 'running'
        $sandbox.SuspendedAt | Should -BeNullOrEmpty
        ($frozen - $sandbox.TimeLeft).TotalSeconds | Should -BeLessThan 1 -Because 'the time spent suspended is not spent from the deadline'
        Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'echo alive' } | Should -Be 'alive'
    }

    It 'refuses commands on a suspended sandbox with an error that says to resume it' {
        $sandbox = New-Suspendable -Timeout 60
        Use-TestEndpoint $endpoint { $sandbox | Suspend-Sandbox }
        $failure = $null
        try { Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'echo hi' -ErrorAction Stop } } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -BeLike 'SandboxSuspended,*'
        $failure.Exception.Message | Should -BeLike "*'$($sandbox.Name)'*is suspended*"
        $failure.ErrorDetails.RecommendedAction | Should -BeLike '*Resume-Sandbox*'

        $failure = $null
        try { Use-TestEndpoint $endpoint { $sandbox | Set-Sandbox -Timeout 30 -ErrorAction Stop } } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'SandboxSuspended,*'

        Use-TestEndpoint $endpoint { $sandbox | Resume-Sandbox }
        Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'echo hi' } | Should -Be 'hi'
        # Resuming a running sandbox does nothing.
        Use-TestEndpoint $endpoint { $sandbox | Resume-Sandbox -PassThru } | ForEach-Object State | Should -Be 'running'
    }

    It 'after suspend 3 s and resume the sandbox ends within 1 s of its deadline plus the time suspended' {
        $sandbox = New-Suspendable -Timeout 6
        $deadline = $sandbox.ExpiresAt
        Use-TestEndpoint $endpoint { $sandbox | Suspend-Sandbox }
        $suspended = [datetime]::UtcNow
        Start-Sleep -Seconds 3
        Use-TestEndpoint $endpoint { $sandbox | Resume-Sandbox }
        $resumed = [datetime]::UtcNow
        $expected = $deadline + ($resumed - $suspended)
        Get-EngineState $sandbox.Id | Should -Be 'running'

        $gone = Wait-Gone $sandbox.Id $expected.AddSeconds(5)
        $gone | Should -Not -BeNullOrEmpty -Because 'the resumed deadline must still end the sandbox'
        $offBy = ($gone - $expected).TotalSeconds
        Write-Host ("    {0}: ended {1:+0.000;-0.000} s from deadline + suspended time" -f $endpoint.Name, $offBy)
        [math]::Abs($offBy) | Should -BeLessThan 1
    }

    It '-KeepDeadline lets the clock run on: a deadline that passes while suspended ends it' {
        $sandbox = New-Suspendable -Timeout 4
        $deadline = $sandbox.ExpiresAt
        Use-TestEndpoint $endpoint { $sandbox | Suspend-Sandbox -KeepDeadline }
        $sandbox.State | Should -Be 'suspended'
        [math]::Abs(($sandbox.SuspendExpiresAt - $deadline).TotalSeconds) | Should -BeLessThan 0.01
        $gone = Wait-Gone $sandbox.Id $deadline.AddSeconds(6)
        $gone | Should -Not -BeNullOrEmpty -Because 'the cleanup engine removes it at its deadline although PID 1 is frozen'
        ($gone - $deadline).TotalSeconds | Should -BeGreaterOrEqual 0
        ($gone - $deadline).TotalSeconds | Should -BeLessThan 2
    }

    It '-MaxSuspend removes a sandbox left suspended too long; resuming it then says so' {
        $sandbox = New-Suspendable -Timeout 60
        $other = Use-TestEndpoint $endpoint { Get-Sandbox -DockerHost $DockerHost -Name $sandbox.Name }
        Use-TestEndpoint $endpoint { $sandbox | Suspend-Sandbox -MaxSuspend 2 }
        $limit = $sandbox.SuspendExpiresAt
        ($limit - $sandbox.SuspendedAt).TotalSeconds | Should -Be 2
        $gone = Wait-Gone $sandbox.Id $limit.AddSeconds(6)
        $gone | Should -Not -BeNullOrEmpty
        ($gone - $limit).TotalSeconds | Should -BeGreaterOrEqual 0
        ($gone - $limit).TotalSeconds | Should -BeLessThan 2

        $failure = $null
        try { Use-TestEndpoint $endpoint { $other | Resume-Sandbox -ErrorAction Stop } } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound,*'
    }
}

Describe 'Suspend-Sandbox: the deadline holds with no PowerShell alive' {
    It 'a child pwsh suspends 3 s and resumes, then exits: PID 1 alone ends the sandbox within 1 s of deadline + suspended time' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'pid1')
        $ready = Join-Path $work 'ready.txt'
        $name = New-TestName 'pid1'
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$sandbox = New-Sandbox -Name '$name' -Image `$env:SANDBOX_IMAGE -Timeout 3
`$deadline = `$sandbox.ExpiresAt
`$sandbox | Suspend-Sandbox
`$suspended = [datetime]::UtcNow
Start-Sleep -Seconds 3
`$sandbox | Resume-Sandbox
`$resumed = [datetime]::UtcNow
Set-Content -LiteralPath '$ready.tmp' -Value `$sandbox.Id, (`$deadline + (`$resumed - `$suspended)).ToString('o')
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
"@
        # With the module removed here no cleanup engine of this process can remove it: only its PID 1 can. The old
        # deadline passed while it was frozen, so a file not rewritten before the unpause would end it at once.
        Remove-Module Sandbox -Force
        try {
            Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 60 | Should -BeTrue -Because (Get-ChildOutput $work | Out-String)
            $id, $expectedText = Get-Content -LiteralPath $ready
            $expected = [datetime]::Parse($expectedText, [cultureinfo]::InvariantCulture, [Globalization.DateTimeStyles]::RoundtripKind).ToUniversalTime()
            [datetime]::UtcNow | Should -BeLessThan $expected.AddSeconds(-0.3) -Because 'the sandbox must be seen alive after the resume'
            Test-ContainerExists $id | Should -BeTrue
            $gone = Wait-Gone $id $expected.AddSeconds(5)
            $gone | Should -Not -BeNullOrEmpty
            $offBy = ($gone - $expected).TotalSeconds
            Write-Host ("    PID 1 alone: ended {0:+0.000;-0.000} s from deadline + suspended time" -f $offBy)
            [math]::Abs($offBy) | Should -BeLessThan 1
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
            if ($id) { docker rm -f $id *> $null }
            Import-Module (Get-SandboxModulePath) -Force -Global
        }
    }
}
