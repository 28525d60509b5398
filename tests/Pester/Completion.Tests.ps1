#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Tab completion of sandbox names, ids, project ids and local images, as a user gets it from TabExpansion2, against
# real sandboxes; and the promise that a Tab press never waits long on an engine that does not answer.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $exported = (Import-PowerShellDataFile -LiteralPath (Get-SandboxModulePath)).CmdletsToExport
    # Every cmdlet that acts on existing sandboxes named by -Name, -Id or -ProjectId (Set-Sandbox once it exists).
    $targetCommands = @('Get-Sandbox', 'Stop-Sandbox', 'Invoke-SandboxCommand', 'Copy-SandboxItem', 'Set-Sandbox', 'Invoke-SandboxCode', 'Enter-Sandbox' |
            Where-Object { $_ -in $exported } | ForEach-Object { @{ Command = $_ } })
    $imageCommands = @('New-Sandbox', 'Use-Sandbox', 'Invoke-SandboxCode' | Where-Object { $_ -in $exported } | ForEach-Object { @{ Command = $_ } })
    $networkCommands = @('New-Sandbox', 'Use-Sandbox', 'Start-SandboxPool' | Where-Object { $_ -in $exported } | ForEach-Object { @{ Command = $_ } })
    $poolCommands = @('Stop-SandboxPool', 'Get-SandboxPool' | Where-Object { $_ -in $exported } | ForEach-Object { @{ Command = $_ } })
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

    # The completion texts with the cursor after $BeforeCursor, the rest of the line following it.
    function Get-CompletionTextAt([string] $BeforeCursor, [string] $AfterCursor, [string] $Expected) {
        $seen = @{ Texts = @() }
        $null = Wait-Until -TimeoutSec 10 -IntervalMs 100 {
            $seen.Texts = @((TabExpansion2 -inputScript ($BeforeCursor + $AfterCursor) -cursorColumn $BeforeCursor.Length).CompletionMatches.CompletionText)
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

Describe 'Completion of -NetworkMode for <Command>' -ForEach $networkCommands {

    BeforeAll {
        $network = "$prefix-net"
        docker network create $network | Out-Null
    }

    AfterAll {
        docker network rm $network *> $null
    }

    It "completes bridge, none, host and the engine's networks" {
        $texts = Get-CompletionText "$Command -NetworkMode " $network
        foreach ($mode in 'bridge', 'none', 'host', $network) { $texts | Should -Contain $mode }
    }

    It 'completes what was typed so far' {
        $texts = Get-CompletionText "$Command -NetworkMode no" 'none'
        $texts | Should -Contain 'none'
        $texts | Where-Object { $_ -notlike 'no*' } | Should -BeNullOrEmpty
        Get-CompletionText "$Command -NetworkMode $prefix-n" $network | Should -Be $network
    }
}

Describe 'Completion of pool names for <Command> -Name' -ForEach $poolCommands {

    BeforeAll {
        $poolName = "$prefix-pool"
        $null = Start-SandboxPool -Name $poolName -Size 1
    }

    AfterAll {
        Get-SandboxPool | Where-Object Name -EQ $poolName | Stop-SandboxPool -Confirm:$false
    }

    It 'completes the names of the running pools' {
        $texts = Get-CompletionText "$Command -Name $prefix-p" $poolName
        $texts | Should -Be $poolName
        (Get-Completion "$Command -Name $prefix-p").ToolTip | Should -BeLike "pool $poolName*waiting*"
    }

    It 'offers nothing for a name no pool has' {
        Get-CompletionText "$Command -Name $prefix-nopool" $null | Should -BeNullOrEmpty
    }
}

Describe 'Completion of paths inside the sandbox for Copy-SandboxItem -FromSandbox -Path' {

    BeforeAll {
        Invoke-SandboxCommand -Sandbox $beta 'mkdir -p /workspace/src/sub "/workspace/my docs" && touch /workspace/src/main.py /workspace/readme.txt'
        $global:CompletionTestSandbox = $beta
        Push-Location -LiteralPath $TestDrive
        Set-Content -LiteralPath (Join-Path $TestDrive 'readme-local.txt') -Value 'a local file'
    }

    AfterAll {
        Pop-Location
        Remove-Variable -Name CompletionTestSandbox -Scope Global -ErrorAction SilentlyContinue
    }

    It 'completes names in the working directory, folders with a trailing /' {
        $texts = Get-CompletionText "Copy-SandboxItem -Name $prefix-beta -FromSandbox -Path " 'src/'
        $texts | Should -Contain 'src/'
        $texts | Should -Contain 'readme.txt'
        $texts | Should -Not -Contain 'readme-local.txt'
    }

    It 'completes inside a folder, relative and absolute' {
        $texts = Get-CompletionText "Copy-SandboxItem -Name $prefix-beta -FromSandbox -Path src/" 'src/main.py'
        $texts | Should -Be 'src/main.py', 'src/sub/'
        Get-CompletionText "Copy-SandboxItem -Name $prefix-beta -FromSandbox -Path /workspace/rea" '/workspace/readme.txt' | Should -Be '/workspace/readme.txt'
    }

    It 'quotes a name with a space' {
        Get-CompletionText "Copy-SandboxItem -Name $prefix-beta -FromSandbox -Path my" "'my docs/'" | Should -Be "'my docs/'"
    }

    It 'finds the sandbox from -Sandbox and from -Id' {
        Get-CompletionText 'Copy-SandboxItem -Sandbox $CompletionTestSandbox -FromSandbox -Path sr' 'src/' | Should -Be 'src/'
        Get-CompletionText "Copy-SandboxItem -Id $($beta.ShortId) -FromSandbox -Path sr" 'src/' | Should -Be 'src/'
    }

    It 'sees -FromSandbox given after -Path' {
        Get-CompletionTextAt "Copy-SandboxItem -Name $prefix-beta -Path sr" ' -FromSandbox' 'src/' | Should -Be 'src/'
    }

    It 'completes local paths without -FromSandbox' {
        $texts = Get-CompletionText "Copy-SandboxItem -Name $prefix-beta -Path readme" './readme-local.txt'
        $texts | Should -Contain './readme-local.txt'
        $texts | Should -Not -Contain 'readme.txt'
    }

    It 'offers nothing, not local paths, when the sandbox cannot be found' {
        $null = Get-CompletionText "Copy-SandboxItem -Name $prefix-beta -FromSandbox -Path " 'src/'   # the engine's sandboxes are cached
        $texts = @((Get-Completion "Copy-SandboxItem -Name $prefix-nosuch -FromSandbox -Path readme").CompletionText)
        $texts | Where-Object { $_ -like '*readme-local*' } | Should -BeNullOrEmpty
        $texts | Where-Object { $_ -ne 'readme' } | Should -BeNullOrEmpty -Because 'the word stays as typed'
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
        @{ Line = 'New-Sandbox -DockerHost tcp://127.0.0.1:{0} -NetworkMode ' }
        @{ Line = 'Copy-SandboxItem -DockerHost tcp://127.0.0.1:{0} -Name sb -FromSandbox -Path /' }
    ) {
        $text = $Line -f $silentPort
        foreach ($attempt in 1..3) {   # the first press starts a query; later ones must not wait for it either
            Measure-Completion $text | Should -BeLessThan 1000 -Because "Tab press $attempt must not wait on the engine"
        }
    }

    It "offers bridge, none and host but not the local engine's networks for -NetworkMode on the engine -DockerHost names" {
        $null = Get-CompletionText 'New-Sandbox -NetworkMode ' 'bridge'   # the local engine's networks are cached
        $texts = @((Get-Completion ('New-Sandbox -DockerHost tcp://127.0.0.1:{0} -NetworkMode ' -f $silentPort)).CompletionText)
        $texts | Should -Be 'bridge', 'host', 'none'
    }

    It 'still completes from a working engine afterwards' {
        Get-CompletionText "Get-Sandbox -Name $prefix-al" "$prefix-alpha" | Should -Be "$prefix-alpha"
    }
}
