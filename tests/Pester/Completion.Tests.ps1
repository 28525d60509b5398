#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Tab completion of sandbox names, ids, project ids and local images, as a user gets it from TabExpansion2, against
# real sandboxes; and the promise that a Tab press never waits long on an engine that does not answer.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $exported = (Import-PowerShellDataFile -LiteralPath (Get-SandboxModulePath)).CmdletsToExport
    # Every cmdlet that acts on existing sandboxes named by -Name, -Id or -ProjectId (Set-Sandbox once it exists).
    $targetCommands = @('Get-Sandbox', 'Stop-Sandbox', 'Invoke-SandboxCommand', 'Copy-SandboxItem', 'Set-Sandbox', 'Invoke-SandboxCode' |
            Where-Object { $_ -in $exported } | ForEach-Object { @{ Command = $_ } })
    $imageCommands = @('New-Sandbox', 'Use-Sandbox', 'Invoke-SandboxCode' | Where-Object { $_ -in $exported } | ForEach-Object { @{ Command = $_ } })
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'cmpl'

    $prefix = Get-TestPrefix
    $project = New-TestProjectId 'cmpl'
    $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'code')
    $alpha = New-Sandbox -Name "$prefix-alpha" -ProjectId $project -Path $code
    $beta = New-Sandbox -Name "$prefix-beta"

    # What a user gets after typing $Line and pressing Tab.
    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }

    # The completion texts for $Line, asking again for a few seconds until $Expected shows up: the very first Tab at an
    # engine may give nothing while the module connects (it never waits more than a fraction of a second).
    function Get-CompletionText([string] $Line, [string] $Expected) {
        $seen = @{ Texts = @() }
        $null = Wait-Until -TimeoutSec 10 -IntervalMs 100 {
            $seen.Texts = @((Get-Completion $Line).CompletionText)
            -not $Expected -or $seen.Texts -contains $Expected
        }
        $seen.Texts
    }

    # Milliseconds one Tab press takes.
    function Measure-Completion([string] $Line) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $null = Get-Completion $Line
        $clock.Elapsed.TotalMilliseconds
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Completion of sandboxes for <Command>' -ForEach $targetCommands {

    It 'completes -Name from the sandboxes on the engine' {
        $texts = Get-CompletionText "$Command -Name $prefix-" "$prefix-alpha"
        $texts | Should -Contain "$prefix-alpha"
        $texts | Should -Contain "$prefix-beta"
        $texts | Where-Object { $_ -notlike "$prefix-*" } | Should -BeNullOrEmpty
    }

    It 'completes -Id with short ids' {
        $texts = Get-CompletionText "$Command -Id $($alpha.Id.Substring(0, 6))" $alpha.ShortId
        $texts | Should -Be $alpha.ShortId
    }

    It 'completes -ProjectId from the projects that have sandboxes' {
        $texts = Get-CompletionText "$Command -ProjectId $($project.Substring(0, $project.Length - 2))" $project
        $texts | Should -Be $project
    }
}

Describe 'Completion of sandboxes' {

    It 'keeps the quote the user opened and describes each sandbox in the tool tip' {
        $texts = Get-CompletionText "Get-Sandbox -Name '$prefix-al" "'$prefix-alpha'"
        $texts | Should -Be "'$prefix-alpha'"
        $match = Get-Completion "Get-Sandbox -Name '$prefix-al" | Select-Object -First 1
        $match.ListItemText | Should -Be "$prefix-alpha"
        $match.ToolTip | Should -BeLike "*$($alpha.ShortId)*$($alpha.Image)*$project*"
    }

    It 'completes the full id once more than a short id is typed' {
        $texts = Get-CompletionText "Stop-Sandbox -Id $($alpha.Id.Substring(0, 14))" $alpha.Id
        $texts | Should -Be $alpha.Id
    }

    It 'completes by position and with wildcards' {
        Get-CompletionText "Get-Sandbox $prefix-b" "$prefix-beta" | Should -Be "$prefix-beta"
        Get-CompletionText "Get-Sandbox -Name $prefix-*ta" "$prefix-beta" | Should -Be "$prefix-beta"
    }

    It 'offers a sandbox made a moment ago and no longer one just stopped' {
        $null = Get-CompletionText "Get-Sandbox -Name $prefix-" "$prefix-alpha"   # fills the cache
        $gamma = New-Sandbox -Name "$prefix-gamma"
        (Get-Completion "Get-Sandbox -Name $prefix-").CompletionText | Should -Contain "$prefix-gamma"
        $gamma | Stop-Sandbox
        (Get-Completion "Get-Sandbox -Name $prefix-").CompletionText | Should -Not -Contain "$prefix-gamma"
    }

    It 'asks the engine that -DockerHost names' {
        $sandboxes = Use-TestEndpoint Tls {
            $texts = Get-CompletionText "Get-Sandbox -DockerHost $env:DOCKER_HOST -Name $prefix-al" "$prefix-alpha"
            [pscustomobject]@{ Texts = $texts; ToolTip = (Get-Completion "Get-Sandbox -DockerHost $env:DOCKER_HOST -Name $prefix-al").ToolTip }
        }
        $sandboxes.Texts | Should -Be "$prefix-alpha"
        $sandboxes.ToolTip | Should -BeLike "*on $((Get-TestRemoteSetting).TlsHost)*"
    }

    It 'offers nothing for a name no sandbox has' {
        Get-CompletionText "Get-Sandbox -Name $prefix-zzz" $null | Should -BeNullOrEmpty
    }
}

Describe 'Completion of local images for <Command> -Image' -ForEach $imageCommands {

    It 'completes repository:tag of the images the engine has' {
        $image = Get-TestImage
        $texts = Get-CompletionText "$Command -Image $($image.Substring(0, 10))" $image
        $texts | Should -Contain $image
        $texts | Where-Object { $_ -notlike "$($image.Substring(0, 10))*" } | Should -BeNullOrEmpty
    }
}

Describe 'Completion against an engine that does not answer' {

    BeforeAll {
        # Accepts connections and never says a word: every request to it hangs.
        $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $silent.Start(64)
        $silentPort = $silent.LocalEndpoint.Port
    }

    AfterAll {
        $silent.Stop()
    }

    It 'returns within a second, <Line>' -ForEach @(
        @{ Line = 'Get-Sandbox -DockerHost tcp://127.0.0.1:{0} -Name sb' }
        @{ Line = 'Stop-Sandbox -DockerHost http://127.0.0.1:{0} -Id ' }
        @{ Line = 'Invoke-SandboxCommand -DockerHost ssh://root@127.0.0.1:{0} -ProjectId ' }
        @{ Line = 'New-Sandbox -DockerHost tcp://127.0.0.1:{0} -Image sandbox' }
    ) {
        $text = $Line -f $silentPort
        foreach ($attempt in 1..3) {   # the first press starts a query; later ones must not wait for it either
            Measure-Completion $text | Should -BeLessThan 1000 -Because "Tab press $attempt must not wait on the engine"
        }
    }

    It 'still completes from a working engine afterwards' {
        Get-CompletionText "Get-Sandbox -Name $prefix-al" "$prefix-alpha" | Should -Be "$prefix-alpha"
    }
}
