#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Living beside other modules. On PowerShell 7 the module's dependencies load into its own AssemblyLoadContext, so
# a module that loaded another version of one of them first (here Microsoft.Extensions.Logging.Abstractions, which
# Docker.DotNet and Sandbox.dll use) does not break the import. Each case runs in a fresh pwsh, as a user's session
# would: load the other copy, import Sandbox, run a sandbox.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'iso'

    $manifest = Get-SandboxModulePath
    $moduleBase = Split-Path -Parent $manifest
    $image = Get-TestImage
    $remote = Get-TestRemoteSetting

    # Other versions of Microsoft.Extensions.Logging.Abstractions (the module ships 8.0) from NuGet, into the usual
    # packages folder, so later runs need no network.
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $loggingPackage = Join-Path $packages 'microsoft.extensions.logging.abstractions'
    if (-not ((Test-Path "$loggingPackage/6.0.0") -and (Test-Path "$loggingPackage/9.0.0"))) {
        $restore = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'restore')
        Set-Content -LiteralPath (Join-Path $restore 'OtherModule.csproj') -Value @'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Microsoft.Extensions.Logging.Abstractions" Version="[6.0.0];[9.0.0]" /></ItemGroup>
</Project>
'@
        dotnet restore (Join-Path $restore 'OtherModule.csproj') --nologo -v quiet | Out-Host
        if ($LASTEXITCODE -ne 0) { throw 'dotnet restore of Microsoft.Extensions.Logging.Abstractions 6.0.0 and 9.0.0 failed' }
    }

    function Get-LoggingAbstractionsPath([string] $Version) {
        # The build another module would ship for PowerShell 7.
        $lib = Join-Path $loggingPackage "$Version/lib"
        foreach ($tfm in 'net8.0', 'net6.0', 'netstandard2.0') {
            $dll = Join-Path $lib "$tfm/Microsoft.Extensions.Logging.Abstractions.dll"
            if (Test-Path -LiteralPath $dll) { return $dll }
        }
        throw "No Microsoft.Extensions.Logging.Abstractions $Version under $lib"
    }

    function Invoke-ChildPwsh([string] $Script) {
        # Runs the script in a fresh pwsh and returns its exit code and output lines (stderr included, no colours).
        $file = Join-Path $TestDrive ('child-{0}.ps1' -f [Guid]::NewGuid().ToString('n').Substring(0, 6))
        Set-Content -LiteralPath $file -Value $Script
        Push-Location (Get-TestRepoRoot)
        try {
            $lines = @(& dotnet tool run pwsh -NoProfile -NonInteractive -File $file 2>&1 | ForEach-Object { "$_" -replace '\x1b\[[0-9;?]*[A-Za-z]' })
            $exitCode = $LASTEXITCODE
        } finally { Pop-Location }
        [pscustomobject]@{ ExitCode = $exitCode; Lines = $lines; Text = $lines -join [Environment]::NewLine }
    }

    function Get-LoadedAssembly($Result) {
        # The child's report lines 'ASSEMBLY|name|version|load context'.
        foreach ($line in $Result.Lines -match '^ASSEMBLY\|') {
            $null, $name, $version, $context = $line -split '\|'
            [pscustomobject]@{ Name = $name; Version = [version]$version; Context = $context }
        }
    }

    # The script a user's session runs: another module's copy first, then Sandbox; reports what loaded where.
    function New-UserSessionScript([string] $PreloadPath, [string] $Name, [string] $DockerHost, [string] $SshHome) {
        $dockerHostArgument = if ($DockerHost) { "-DockerHost '$DockerHost'" } else { '' }
        @"
`$ErrorActionPreference = 'Stop'
$(if ($PreloadPath) { "Add-Type -LiteralPath '$PreloadPath'" })
Import-Module '$manifest'
$(if ($SshHome) { "`$env:HOME = '$SshHome'" })
`$sandbox = New-Sandbox -Image '$image' -Name '$Name' -Timeout 120 $dockerHostArgument
try {
    `$output = @(`$sandbox | Invoke-SandboxCommand 'echo ok' -PassThru)   # the lines, then the result
    `$output | Where-Object { `$_ -is [string] }
    `$result = `$output[-1]
} finally {
    `$sandbox | Stop-Sandbox
}
`$alc = [System.Runtime.Loader.AssemblyLoadContext]
foreach (`$assembly in [AppDomain]::CurrentDomain.GetAssemblies()) {
    `$n = `$assembly.GetName()
    'ASSEMBLY|{0}|{1}|{2}' -f `$n.Name, `$n.Version, `$alc::GetLoadContext(`$assembly).Name
}
'CMDLET|' + `$alc::GetLoadContext((Get-Command New-Sandbox).ImplementingType.Assembly).Name
'SANDBOX|{0}|{1}' -f `$sandbox.GetType().FullName, `$alc::GetLoadContext(`$sandbox.GetType().Assembly).Name
'RESULT|{0}|{1}' -f `$result.GetType().FullName, `$alc::GetLoadContext(`$result.GetType().Assembly).Name
"@
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Isolation: dependencies in the module''s own load context, beside other modules' -Skip:($PSVersionTable.PSEdition -ne 'Core') {

    Context 'after another module loaded an older Microsoft.Extensions.Logging.Abstractions (6.0)' {
        BeforeAll {
            $name = New-TestName 'older'
            $run = Invoke-ChildPwsh (New-UserSessionScript -PreloadPath (Get-LoggingAbstractionsPath '6.0.0') -Name $name)
            $loaded = @(Get-LoadedAssembly $run)
        }

        It 'imports Sandbox and runs a sandbox' {
            $run.ExitCode | Should -Be 0 -Because $run.Text
            $run.Lines | Should -Contain 'ok'
            Test-ContainerExists $name | Should -BeFalse -Because 'Stop-Sandbox removed it'
        }

        It 'leaves the other copy in the default context and loads the module''s own beside it' {
            $logging = @($loaded | Where-Object Name -EQ 'Microsoft.Extensions.Logging.Abstractions')
            $logging | Where-Object Context -EQ 'Default' | ForEach-Object Version | Should -Be ([version]'6.0.0.0')
            $logging | Where-Object Context -EQ 'Sandbox' | ForEach-Object Version | Should -Be ([version]'8.0.0.0')
        }

        It 'loads Docker.DotNet, SSH.NET and the rest of the dependencies into the Sandbox context' {
            foreach ($dependency in 'Docker.DotNet', 'Docker.DotNet.X509', 'Docker.DotNet.Handler.Abstractions', 'Renci.SshNet') {
                $found = @($loaded | Where-Object Name -EQ $dependency)
                $found.Count | Should -Be 1 -Because "$dependency loads once"
                $found[0].Context | Should -Be 'Sandbox' -Because "$dependency is a dependency"
            }
        }

        It 'keeps Sandbox.dll, the cmdlets and the objects users see in the default context' {
            ($loaded | Where-Object Name -EQ 'Sandbox').Context | Should -Be 'Default'
            $run.Lines | Should -Contain 'CMDLET|Default'
            $run.Lines | Should -Contain 'SANDBOX|Sandbox.Sandbox|Default'
            $run.Lines | Should -Contain 'RESULT|Sandbox.SandboxCommandResult|Default'
        }
    }

    Context 'over ssh://, where Sandbox.dll hands Docker.DotNet an SSH transport that takes an ILogger' {
        It 'works after an older copy (6.0) was loaded first' {
            $name = New-TestName 'ssh-older'
            $run = Invoke-ChildPwsh (New-UserSessionScript -PreloadPath (Get-LoggingAbstractionsPath '6.0.0') -Name $name -DockerHost $remote.SshHost -SshHome $remote.SshHome)
            $run.ExitCode | Should -Be 0 -Because $run.Text
            $run.Lines | Should -Contain 'ok'
        }

        It 'works after a newer copy (9.0) was loaded first, which both sides then share' {
            $name = New-TestName 'ssh-newer'
            $run = Invoke-ChildPwsh (New-UserSessionScript -PreloadPath (Get-LoggingAbstractionsPath '9.0.0') -Name $name -DockerHost $remote.SshHost -SshHome $remote.SshHome)
            $run.ExitCode | Should -Be 0 -Because $run.Text
            $run.Lines | Should -Contain 'ok'
            $logging = @(Get-LoadedAssembly $run | Where-Object Name -EQ 'Microsoft.Extensions.Logging.Abstractions')
            $logging.Count | Should -Be 1 -Because 'one ILogger type for Sandbox.dll and Docker.DotNet'
            $logging[0].Version | Should -Be ([version]'9.0.0.0')
        }
    }

    Context 'without the load context (control)' {
        It 'the same older copy breaks an import of Sandbox.dll with its dependencies beside it' {
            # What the module did before: everything in one folder, loaded into the default context. This shows the
            # cases above really meet the conflict.
            $flat = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'flat')
            Copy-Item -Path (Join-Path $moduleBase 'bin/net8.0/Sandbox.dll'), (Join-Path $moduleBase 'bin/net8.0/deps/*.dll') -Destination $flat
            $run = Invoke-ChildPwsh @"
Add-Type -LiteralPath '$(Get-LoggingAbstractionsPath '6.0.0')'
try {
    Import-Module '$(Join-Path $flat 'Sandbox.dll')' -ErrorAction Stop
    'IMPORTED'
} catch {
    'FAILED|' + `$_.Exception.Message
}
"@
            $failure = @($run.Lines -like 'FAILED|*')
            $failure.Count | Should -Be 1 -Because $run.Text
            $failure[0] | Should -BeLike "*Could not load file or assembly 'Microsoft.Extensions.Logging.Abstractions, Version=8.0.0.0*"
        }
    }
}

Describe 'Isolation: the module folder for both editions' {

    It 'bin/net8.0 holds Sandbox.dll and its help; the dependencies are in bin/net8.0/deps' {
        $bin = Join-Path $moduleBase 'bin/net8.0'
        (Get-ChildItem -LiteralPath $bin -File -Filter *.dll).Name | Should -Be 'Sandbox.dll'
        $deps = (Get-ChildItem -LiteralPath (Join-Path $bin 'deps') -Filter *.dll).Name
        foreach ($dependency in 'Docker.DotNet.dll', 'Renci.SshNet.dll', 'BouncyCastle.Cryptography.dll', 'Microsoft.Extensions.Logging.Abstractions.dll') {
            $deps | Should -Contain $dependency
        }
    }

    It 'has the netstandard2.0 build for Windows PowerShell 5.1, with every assembly it references beside it' {
        $bin = Join-Path $moduleBase 'bin/netstandard2.0'
        $dll = Join-Path $bin 'Sandbox.dll'
        $dll | Should -Exist
        $stream = [IO.File]::OpenRead($dll)
        try {
            $pe = [System.Reflection.PortableExecutable.PEReader]::new($stream)
            $metadata = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)

            $metadata.GetString($metadata.GetAssemblyDefinition().Name) | Should -Be 'Sandbox'
            $targetFramework = foreach ($handle in $metadata.CustomAttributes) {
                $attribute = $metadata.GetCustomAttribute($handle)
                if ($attribute.Constructor.Kind -ne 'MemberReference') { continue }   # an attribute Sandbox.dll defines
                $constructor = $metadata.GetMemberReference([System.Reflection.Metadata.MemberReferenceHandle]::op_Explicit($attribute.Constructor))
                if ($constructor.Parent.Kind -ne 'TypeReference') { continue }
                $type = $metadata.GetTypeReference([System.Reflection.Metadata.TypeReferenceHandle]::op_Explicit($constructor.Parent))
                if ($metadata.GetString($type.Name) -eq 'TargetFrameworkAttribute') {
                    $blob = $metadata.GetBlobReader($attribute.Value)
                    $null = $blob.ReadUInt16()          # prolog
                    $blob.ReadSerializedString()
                }
            }
            $targetFramework | Should -Be '.NETStandard,Version=v2.0'

            $commandTypes = foreach ($handle in $metadata.TypeDefinitions) {
                $type = $metadata.GetTypeDefinition($handle)
                if ($metadata.GetString($type.Namespace) -eq 'Sandbox.Commands') { $metadata.GetString($type.Name) }
            }
            foreach ($cmdlet in (Import-PowerShellDataFile -LiteralPath $manifest).CmdletsToExport) {
                $commandTypes | Should -Contain (($cmdlet -replace '-', '') + 'Command')
            }

            foreach ($handle in $metadata.AssemblyReferences) {
                $reference = $metadata.GetString($metadata.GetAssemblyReference($handle).Name)
                if ($reference -in 'netstandard', 'System.Management.Automation') { continue }   # the platform's
                Join-Path $bin "$reference.dll" | Should -Exist -Because "Sandbox.dll (netstandard2.0) references $reference"
            }
        } finally {
            if ($pe) { $pe.Dispose() }
            $stream.Dispose()
        }
    }

    It 'the netstandard2.0 build imports and runs a sandbox too (here in PowerShell 7)' {
        $name = New-TestName 'ns20'
        $run = Invoke-ChildPwsh @"
`$ErrorActionPreference = 'Stop'
Import-Module '$(Join-Path $moduleBase 'bin/netstandard2.0/Sandbox.dll')'
(Get-Command -Module Sandbox).Count
`$sandbox = New-Sandbox -Image '$image' -Name '$name' -Timeout 120
try { `$sandbox | Invoke-SandboxCommand 'echo from netstandard2.0' } finally { `$sandbox | Stop-Sandbox }
"@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Lines | Should -Contain ([string](Import-PowerShellDataFile -LiteralPath $manifest).CmdletsToExport.Count)
        $run.Lines | Should -Contain 'from netstandard2.0'
    }
}
