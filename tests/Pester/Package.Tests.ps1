#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# The Gallery install path, end to end: the built module is published with PSResourceGet into a local folder
# repository (tools/New-ModulePackage.ps1, what `build.ps1 Package` runs), then a fresh pwsh installs it from there
# with Install-PSResource, imports it by name and runs a sandbox.
#
# Every pwsh here runs with HOME (and XDG_*) in this test's temp folder: PSResourceGet's repository list, the
# CurrentUser module folder (~/.local/share/powershell/Modules) and pwsh's caches all live there, so nothing is
# registered or installed on the machine. (Unix only: on Windows CurrentUser is the Documents folder.)

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'pkg'

    $manifest = Get-SandboxModulePath
    $moduleBase = Split-Path -Parent $manifest
    $moduleData = Import-PowerShellDataFile -LiteralPath $manifest
    $version = $moduleData.ModuleVersion
    $image = Get-TestImage
    $repoRoot = Get-TestRepoRoot

    function Invoke-ChildPwsh([string] $Script, [string] $WorkFolder) {
        # Runs the script in a fresh pwsh whose HOME (and so its user module folder, PSResourceGet's repository list and
        # install folder, pwsh's caches) is $WorkFolder/home; returns the exit code and the output lines, without colours.
        $homeFolder = New-Item -ItemType Directory -Force -Path (Join-Path $WorkFolder 'home')
        $userHome = [Environment]::GetFolderPath('UserProfile')
        $environment = @{
            HOME            = $homeFolder.FullName
            XDG_DATA_HOME   = (New-Item -ItemType Directory -Force -Path (Join-Path $homeFolder '.local/share')).FullName   # must exist
            XDG_CACHE_HOME  = (New-Item -ItemType Directory -Force -Path (Join-Path $homeFolder '.cache')).FullName
            XDG_CONFIG_HOME = (New-Item -ItemType Directory -Force -Path (Join-Path $homeFolder '.config')).FullName
            PSModulePath    = $null     # pwsh builds the default: the user folder above, the shared one, $PSHOME's
            # `dotnet tool run pwsh` finds the tool through the real home's tool cache and packages folder.
            DOTNET_CLI_HOME = if ($env:DOTNET_CLI_HOME) { $env:DOTNET_CLI_HOME } else { $userHome }
            NUGET_PACKAGES  = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $userHome '.nuget/packages' }
            NO_COLOR        = '1'
        }
        $file = Join-Path $WorkFolder ('child-{0}.ps1' -f [Guid]::NewGuid().ToString('n').Substring(0, 6))
        Set-Content -LiteralPath $file -Value $Script
        Push-Location $repoRoot
        try {
            Use-TestEnvironment $environment {
                $lines = @(& dotnet tool run pwsh -NoProfile -NonInteractive -File $file 2>&1 | ForEach-Object { "$_" -replace '\x1b\[[0-9;?]*[A-Za-z]' })
                [pscustomobject]@{ ExitCode = $LASTEXITCODE; Lines = $lines; Text = $lines -join [Environment]::NewLine }
            }
        } finally { Pop-Location }
    }

    # Where Install-PSResource -Scope CurrentUser would put Sandbox for this machine's user: nothing may appear there.
    $userModules = @(
        @{ Folder = 'UserProfile'; Path = '.local/share/powershell/Modules/Sandbox' }
        @{ Folder = 'LocalApplicationData'; Path = 'powershell/Modules/Sandbox' }
        @{ Folder = 'MyDocuments'; Path = 'PowerShell/Modules/Sandbox' }
    ) | ForEach-Object {
        $folder = [Environment]::GetFolderPath($_.Folder)     # empty when the folder does not exist
        if ($folder) { Join-Path $folder $_.Path }
    } | Select-Object -Unique
    $hadUserModule = @($userModules | ForEach-Object { Test-Path -LiteralPath $_ })

    # Publish: the package build, into a folder that then serves as the repository.
    $feed = Join-Path $TestDrive 'feed'
    $publisher = Join-Path $TestDrive 'publisher'
    $publish = Invoke-ChildPwsh -WorkFolder $publisher -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module Microsoft.PowerShell.PSResourceGet
'BEFORE|' + ((Get-PSResourceRepository).Name -join ',')
`$nupkg = & '$repoRoot/tools/New-ModulePackage.ps1' -ModulePath '$moduleBase' -DestinationPath '$feed'
'NUPKG|' + `$nupkg.FullName
'AFTER|' + ((Get-PSResourceRepository).Name -join ',')
"@
    $nupkg = ($publish.Lines -like 'NUPKG|*') -replace '^NUPKG\|'
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Package: the manifest' {

    It 'passes Test-ModuleManifest with the Gallery metadata' {
        $info = Test-ModuleManifest -Path $manifest -ErrorAction Stop
        $info.Version | Should -Be ([version]$version)
        $info.CompatiblePSEditions | Should -Be 'Desktop', 'Core'
        $info.PowerShellVersion | Should -Be ([version]'5.1')
        $info.Tags | Should -Contain 'Docker'
        $info.Tags | Should -Contain 'PSEdition_Core'
        $info.Tags | Should -Contain 'PSEdition_Desktop'
        $info.LicenseUri | Should -Not -BeNullOrEmpty
        $info.ProjectUri | Should -Not -BeNullOrEmpty
        $info.ReleaseNotes | Should -Not -BeNullOrEmpty
        $info.Author | Should -Not -BeNullOrEmpty
        $info.Description | Should -Not -BeNullOrEmpty
    }

    It 'lists every cmdlet it exports by name, and exactly those the assembly has' {
        $listed = @($moduleData.CmdletsToExport)
        $listed | Should -Not -BeNullOrEmpty
        $listed | Where-Object { [WildcardPattern]::ContainsWildcardCharacters($_) } | Should -BeNullOrEmpty
        @($moduleData.FunctionsToExport).Count | Should -Be 0
        @($moduleData.AliasesToExport).Count | Should -Be 0
        @($moduleData.VariablesToExport).Count | Should -Be 0
        $exported = (Get-Module Sandbox).ExportedCmdlets.Keys
        $exported | Sort-Object | Should -Be ($listed | Sort-Object)
    }
}

Describe 'Package: build, publish to a local repository, install in a fresh pwsh' -Skip:$IsWindows {

    It 'publishes Sandbox.<version>.nupkg with PSResourceGet' {
        $publish.ExitCode | Should -Be 0 -Because $publish.Text
        $nupkg | Should -Be (Join-Path $feed "Sandbox.$version.nupkg")
        $nupkg | Should -Exist
    }

    It 'leaves the repository list as it was' {
        $before = ($publish.Lines -like 'BEFORE|*') -replace '^BEFORE\|'
        $after = ($publish.Lines -like 'AFTER|*') -replace '^AFTER\|'
        $after | Should -Be $before
    }

    It 'holds the manifest, both builds, the dependencies apart for PowerShell 7, help and the license' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg)
        try {
            $entries = $zip.Entries.FullName
            foreach ($file in 'Sandbox.psd1', 'Sandbox.psm1', 'Sandbox.Format.ps1xml', 'LICENSE',
                'bin/net8.0/Sandbox.dll', 'bin/net8.0/deps/Docker.DotNet.dll', 'bin/net8.0/deps/Renci.SshNet.dll',
                'bin/netstandard2.0/Sandbox.dll', 'bin/netstandard2.0/Docker.DotNet.dll',
                'en-US/Sandbox.dll-Help.xml', 'en-US/about_Sandbox.help.txt') {
                $entries | Should -Contain $file
            }
            $entries | Where-Object { $_ -like 'bin/net8.0/*.dll' -and $_ -notlike 'bin/net8.0/deps/*' } | Should -Be 'bin/net8.0/Sandbox.dll'

            $reader = [IO.StreamReader]::new(($zip.Entries | Where-Object FullName -EQ 'Sandbox.nuspec').Open())
            try { $nuspec = [xml]$reader.ReadToEnd() } finally { $reader.Dispose() }
        } finally { $zip.Dispose() }

        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be 'Sandbox'
        $metadata.version | Should -Be $version
        $metadata.projectUrl | Should -Be $moduleData.PrivateData.PSData.ProjectUri
        $metadata.licenseUrl | Should -Be $moduleData.PrivateData.PSData.LicenseUri
        $metadata.tags -split ' ' | Should -Contain 'PSModule'
        $metadata.releaseNotes | Should -Not -BeNullOrEmpty
    }

    It 'installs with Install-PSResource, imports by name and runs a sandbox' {
        $name = New-TestName 'installed'
        $user = Join-Path $TestDrive 'user'
        $run = Invoke-ChildPwsh -WorkFolder $user -Script @"
`$ErrorActionPreference = 'Stop'
if (Get-Module -ListAvailable Sandbox) { throw 'Sandbox is already installed where this pwsh looks' }
Register-PSResourceRepository -Name SandboxTestFeed -Uri '$feed' -Trusted
try {
    Install-PSResource -Name Sandbox -Repository SandboxTestFeed -Scope CurrentUser -TrustRepository
} finally {
    Unregister-PSResourceRepository -Name SandboxTestFeed
}
Import-Module Sandbox
`$module = Get-Module Sandbox
'MODULE|{0}|{1}' -f `$module.Version, `$module.ModuleBase
'CMDLETS|' + ((`$module.ExportedCmdlets.Keys | Sort-Object) -join ',')
`$sandbox = New-Sandbox -Image '$image' -Name '$name' -Timeout 120
try {
    `$sandbox | Invoke-SandboxCommand 'echo installed'
} finally {
    `$sandbox | Stop-Sandbox
}
"@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Lines | Should -Contain 'installed'

        $module = ($run.Lines -like 'MODULE|*') -replace '^MODULE\|'
        $moduleVersion, $installedBase = $module -split '\|', 2
        $moduleVersion | Should -Be $version
        $installedBase | Should -Be (Join-Path $user "home/.local/share/powershell/Modules/Sandbox/$version")
        ($run.Lines -like 'CMDLETS|*') -replace '^CMDLETS\|' | Should -Be (($moduleData.CmdletsToExport | Sort-Object) -join ',')
        Test-ContainerExists $name | Should -BeFalse -Because 'Stop-Sandbox removed it'
    }

    It 'installed nothing for this machine''s user' {
        @($userModules | ForEach-Object { Test-Path -LiteralPath $_ }) | Should -Be $hadUserModule
    }
}
