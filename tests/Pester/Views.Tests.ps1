#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# What a person sees: the table and list views of Sandbox and SandboxCommandResult, and [OutputType] on every cmdlet.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'view'
    $prefix = Get-TestPrefix
    $project = New-TestProjectId 'view'
    $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'code')
    $sandbox = New-Sandbox -Name "$prefix-web" -ProjectId $project -Path $code -Port 8080

    # The lines a console 120 columns wide shows.
    function Show-Table($InputObject, [int] $Width = 120) { ($InputObject | Format-Table | Out-String -Width $Width) -split "`r?`n" | Where-Object { $_.Trim() } }
    function Show-List($InputObject) { ($InputObject | Format-List | Out-String -Width 120) -split "`r?`n" | Where-Object { $_.Trim() } }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Views of Sandbox' {

    It 'shows the columns a person scans for, in a table by default, under the engine they run on' {
        $lines = @(($sandbox | Out-String -Width 120) -split "`r?`n" | Where-Object { $_.Trim() })
        $lines[0].Trim() | Should -Be "DockerHost: $($sandbox.DockerHost)"
        $lines[1] -split '\s+' | Where-Object { $_ } | Should -Be 'Name', 'ProjectId', 'Image', 'TimeLeft', 'Ports'
    }

    It 'shows the port as HostPort->ContainerPort without cutting it short' {
        $row = Show-Table $sandbox | Where-Object { $_ -like "$prefix-web*" }
        $port = $sandbox.Ports[0].HostPort
        $row | Should -Match ([regex]::Escape("$port->8080"))
        $row | Should -Match ([regex]::Escape($project))
        $row | Should -Match ([regex]::Escape(($sandbox.Image -replace ':latest$')))
        $row | Should -Match '\d\d:\d\d:\d\d'
        $row | Should -Match "$([regex]::Escape("$port->8080"))$"   # whole, at the end of the row
    }

    It 'shows the state instead of the time left once the sandbox is gone' {
        $gone = New-Sandbox -Name "$prefix-gone"
        $gone | Stop-Sandbox
        Show-Table $gone | Where-Object { $_ -like "$prefix-gone*" } | Should -Match '\bremoved\b'
    }

    It 'shows the time left as none for a sandbox without a deadline, and days for long ones' {
        $forever = New-Sandbox -Name "$prefix-forever" -Timeout 0
        $long = New-Sandbox -Name "$prefix-long" -Timeout (3 * 86400)
        try {
            Show-Table $forever | Where-Object { $_ -like "$prefix-forever*" } | Should -Match '\bnone\b'
            # Deadlines round up to the next whole second, so a fresh 3-day sandbox can show 3d 00:00:00 for a moment.
            Show-Table $long | Where-Object { $_ -like "$prefix-long*" } | Should -Match '\b(2d 23:\d\d:\d\d|3d 00:00:0\d)'
        } finally {
            $forever, $long | Stop-Sandbox
        }
    }

    It 'shows the local end of an ssh:// tunnel as the port' {
        $remote = Use-TestEndpoint Ssh { New-Sandbox -DockerHost $env:DOCKER_HOST -Name "$prefix-tunnel" -Port 8080 }
        try {
            $local = $remote.Ports[0].LocalPort
            $local | Should -Not -BeNullOrEmpty
            Show-Table $remote | Where-Object { $_ -like "$prefix-tunnel*" } | Should -Match ([regex]::Escape("$local->8080"))
        } finally {
            Use-TestEndpoint Ssh { $remote | Stop-Sandbox }
        }
    }

    It 'shows the details in a list' {
        $text = Show-List $sandbox
        foreach ($label in 'Name', 'Id', 'ProjectId', 'Image', 'State', 'DockerHost', 'CreatedAt', 'ExpiresAt', 'TimeLeft', 'Ports', 'WorkingDirectory', 'CodePath', 'Limits') {
            $text | Where-Object { $_ -match "^$label\s+:" } | Should -Not -BeNullOrEmpty -Because "the list shows $label"
        }
        $text | Where-Object { $_ -match '^Ports\s+:' } | Should -Match ([regex]::Escape("127.0.0.1:$($sandbox.Ports[0].HostPort)->8080/tcp"))
        $text | Where-Object { $_ -match '^Limits\s+:' } | Should -Match 'mem=1GB'
    }
}

Describe 'Views of SandboxCommandResult' {

    BeforeAll {
        $result = $sandbox | Invoke-SandboxCommand 'echo out; echo err >&2; exit 3' -PassThru 6>$null | Select-Object -Last 1
    }

    It 'shows a table with the exit code and the output' {
        $lines = @(Show-Table $result)
        $lines[0] -split '\s+' | Where-Object { $_ } | Should -Be 'SandboxName', 'ExitCode', 'Duration', 'Command', 'StdOut'
        $lines[2] | Should -Match "^$prefix-web\s+3\s+\d+\.\d{3} s\s+echo out"
        $lines[2] | Should -Match 'out$'
    }

    It 'shows a time-out as the exit code and several lines of output as the first one' {
        $slow = $sandbox | Invoke-SandboxCommand 'echo first; echo second; sleep 30' -TimeoutSec 1 -PassThru -ErrorAction SilentlyContinue 6>$null | Select-Object -Last 1
        $slow.TimedOut | Should -BeTrue
        $row = Show-Table $slow | Where-Object { $_ -like "$prefix-web*" }
        $row | Should -Match "^$prefix-web\s+timeout\s"
        $row | Should -Match 'first \.\.\.$'
    }

    It 'shows every field in a list, output without trailing newlines' {
        $text = Show-List $result
        foreach ($label in 'SandboxName', 'Command', 'ExitCode', 'Succeeded', 'TimedOut', 'OomKilled', 'Duration', 'StdOut', 'StdErr', 'Truncated', 'SandboxId') {
            $text | Where-Object { $_ -match "^$label\s+:" } | Should -Not -BeNullOrEmpty -Because "the list shows $label"
        }
        $text | Where-Object { $_ -match '^StdErr\s+:' } | Should -Match ':\s+err$'
        $text | Where-Object { $_ -match '^Succeeded\s+:' } | Should -Match 'False'
    }
}

Describe 'Views fit a console 80 columns wide' {

    BeforeAll {
        # Typical values: a generated name with a project id, the test image, a published port, the local engine.
        $typical = New-Sandbox -ProjectId ('app-' + [Guid]::NewGuid().ToString('n').Substring(0, 4)) -Port 8080
        $plain = New-Sandbox
        function Show-At80($InputObject) { @(($InputObject | Out-String -Width 80) -split "`r?`n" | Where-Object { $_.Trim() }) }
        function Assert-Fits([string[]] $Lines) {
            foreach ($line in $Lines) { $line.Length | Should -BeLessOrEqual 80 -Because "'$line' must fit" }
            $Lines -join "`n" | Should -Not -Match '…' -Because 'no value is cut short'
        }
    }

    AfterAll {
        $typical, $plain | Stop-Sandbox
    }

    It 'the sandbox table keeps every column and value' {
        $lines = Show-At80 @($typical, $plain)
        Assert-Fits $lines
        $lines[0].Trim() | Should -Be "DockerHost: $($typical.DockerHost)"
        $lines[1] -split '\s+' | Where-Object { $_ } | Should -Be 'Name', 'ProjectId', 'Image', 'TimeLeft', 'Ports'
        $row = $lines | Where-Object { $_ -like "$($typical.Name) *" }
        $row | Should -Match "^$([regex]::Escape($typical.Name))\s+$([regex]::Escape($typical.ProjectId))\s+sandbox-local/busybox\s+\d\d:\d\d:\d\d\s+$($typical.Ports[0].HostPort)->8080$"
        $lines | Where-Object { $_ -like "$($plain.Name) *" } | Should -Match "^$([regex]::Escape($plain.Name))\s+sandbox-local/busybox\s+\d\d:\d\d:\d\d\s*$"
    }

    It 'the command result table keeps the command and the first line of output' {
        $result = $typical | Invoke-SandboxCommand 'echo hello world; ls /' -PassThru 6>$null | Select-Object -Last 1
        $lines = Show-At80 $result
        Assert-Fits $lines
        $lines[0] -split '\s+' | Where-Object { $_ } | Should -Be 'SandboxName', 'ExitCode', 'Duration', 'Command', 'StdOut'
        $lines[2] | Should -Match "^$([regex]::Escape($typical.Name))\s+0\s+\d+\.\d{3} s\s+echo hello world; ls /\s+hello world \.\.\.$"
    }

    It 'the pool table keeps every column' {
        $pool = Start-SandboxPool -Name "$prefix-pool" -Size 1
        try {
            $lines = Show-At80 $pool
            Assert-Fits $lines
            $lines[0].Trim() | Should -Be "DockerHost: $($pool.DockerHost)"
            $lines[1] -split '\s+' | Where-Object { $_ } | Should -Be 'Name', 'Image', 'State', 'Ready', 'Taken', 'LastError'
            $lines[3] | Should -Match "^$prefix-pool\s+sandbox-local/busybox\s+Running\s+[01]/1\s+\d"
        } finally { $pool | Stop-SandboxPool -Confirm:$false }
    }

    It 'the language table shows every language with its image whole' {
        $lines = Show-At80 (Get-SandboxLanguage)
        Assert-Fits $lines
        foreach ($language in Get-SandboxLanguage) {
            $lines | Where-Object { $_ -match "^$([regex]::Escape($language.Name))\s" } | Should -Match "$([regex]::Escape($language.Image))$"
        }
    }
}

Describe 'Views: [OutputType] of every cmdlet' {

    It 'is declared on every exported cmdlet' {
        $commands = @(Get-Command -Module Sandbox -CommandType Cmdlet)
        $commands | Should -Not -BeNullOrEmpty
        foreach ($command in $commands) {
            $command.OutputType | Should -Not -BeNullOrEmpty -Because "$($command.Name) should say what it writes"
        }
    }
}
