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

    It 'shows the columns a person scans for, in a table by default' {
        $lines = @(($sandbox | Out-String -Width 120) -split "`r?`n" | Where-Object { $_.Trim() })
        $lines[0] -split '\s+' | Where-Object { $_ } | Should -Be 'Name', 'ProjectId', 'Image', 'State', 'TimeLeft', 'Ports', 'DockerHost'
    }

    It 'shows the port as HostPort->ContainerPort without cutting it short' {
        $row = Show-Table $sandbox | Where-Object { $_ -like "$prefix-web*" }
        $port = $sandbox.Ports[0].HostPort
        $row | Should -Match ([regex]::Escape("$port->8080"))
        $row | Should -Match ([regex]::Escape($project))
        $row | Should -Match ([regex]::Escape($sandbox.Image))
        $row | Should -Match 'running'
        $row | Should -Match '\d\d:\d\d:\d\d'
        $row | Should -Match "$([regex]::Escape("$port->8080"))\s"   # whole, with the next column after it
        $wide = Show-Table $sandbox -Width 200 | Where-Object { $_ -like "$prefix-web*" }
        $wide | Should -Match "$([regex]::Escape($sandbox.DockerHost))$"
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
        $lines[0] -split '\s+' | Where-Object { $_ } | Should -Be 'SandboxName', 'ExitCode', 'TimedOut', 'Duration', 'Command', 'StdOut'
        $lines[2] | Should -Match "^$prefix-web\s+3\s+False\s+\d+\.\d{3} s\s+echo out"
        $lines[2] | Should -Match 'out$'
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

Describe 'Views: [OutputType] of every cmdlet' {

    It 'is declared on every exported cmdlet' {
        $commands = @(Get-Command -Module Sandbox -CommandType Cmdlet)
        $commands | Should -Not -BeNullOrEmpty
        foreach ($command in $commands) {
            $command.OutputType | Should -Not -BeNullOrEmpty -Because "$($command.Name) should say what it writes"
        }
    }
}
