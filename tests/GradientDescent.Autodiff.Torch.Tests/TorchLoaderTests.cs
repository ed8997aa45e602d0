using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using FsCheck.Xunit;
using GradientDescent.Build;
using TorchSharp;
using Xunit;
using static GradientDescent.Autodiff.Torch.TorchScalars;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// TorchSharp loads and differentiates correctly here, and the build step that makes it load on older Linux
/// (build/TorchSharpGlibcxxFix.targets, logic in build/ElfVersionPatcher.cs) did its job and is safe.
/// </summary>
public sealed class TorchLoaderTests
{
    private const string Libstdcxx = "libstdc++.so.6";
    private const string Glibcxx3432 = "GLIBCXX_3.4.32";

    // ---- TorchSharp loads and runs autograd (micrograd's test/test_engine.py, values from PyTorch) ----

    [Fact]
    public void Autograd_MicrogradSanityCheck_MatchesPyTorch()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();

        // x = -4; z = 2x + 2 + x = 3x + 2 = -10; q = relu(z) + z*x = 0 + 40 = 40; h = relu(z*z) = 100;
        // y = h + q + q*x = 100 + 40 - 160 = -20.
        // dy/dx = dh/dx + (dq/dx)(1 + x) + q, with dh/dx = 2z*3 = -60 and dq/dx = 0 + 3x + z = -22 (relu'(z) = 0 at z < 0):
        // -60 + (-22)(-3) + 40 = 46.
        Tensor x = tensor(-4.0, dtype: float64, requires_grad: true);
        Tensor z = Add(Add(Mul(x, 2), 2), x);
        Tensor q = Add(z.relu(), z * x);
        Tensor h = (z * z).relu();
        Tensor y = Add(Add(h, q), q * x);
        y.backward();

        Assert.Equal(-20.0, y.item<double>(), 1e-12);
        Assert.Equal(46.0, Grad(x), 1e-12);
    }

    [Fact]
    public void Autograd_MicrogradMoreOps_MatchesPyTorch()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();

        // a = -4, b = 2. Python's `c += expr` on micrograd Values is c = c + expr (not in place), as here.
        // Numbers reach libtorch through TorchScalars (see there), with the libtorch calls the Python operators make.
        // c = a + b = -2; d = a*b + b^3 = 0; c = c + (c + 1) = -3; c = c + (1 + c + (-a)) = -3 + 2 = -1;
        // d = d + (d*2 + relu(b + a)) = 0; d = d + (3d + relu(b - a)) = 6; e = c - d = -7; f = e^2 = 49;
        // g = f/2 + 10/f = 24.5 + 0.204081632653... = 24.70408163265306.
        // PyTorch: dg/da = 138.83381924198252, dg/db = 645.5772594752186.
        Tensor a = tensor(-4.0, dtype: float64, requires_grad: true);
        Tensor b = tensor(2.0, dtype: float64, requires_grad: true);
        Tensor c = Add(a, b);
        Tensor d = Add(a * b, Pow(b, 3));
        c = Add(c, Add(c, 1));
        c = Add(c, Add(Add(c, 1), -a));
        d = Add(d, Add(Mul(d, 2), Add(b, a).relu()));
        d = Add(d, Add(Mul(d, 3), (b - a).relu()));
        Tensor e = c - d;
        Tensor f = Square(e);
        Tensor g = Mul(f, 1 / 2.0);
        g = Add(g, With(10, ten => f.reciprocal().mul(ten)));
        g.backward();

        Assert.Equal(24.70408163265306, g.item<double>(), 1e-12);
        Assert.Equal(138.83381924198252, Grad(a), 1e-12);
        Assert.Equal(645.5772594752186, Grad(b), 1e-12);
    }

    // ---- The build step patched the output copy of libLibTorchSharp.so ----

    [Fact]
    public void LoaderFix_OutputShim_IsWeakExactlyWhereSystemLibstdcxxLacksGlibcxx3432()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // The fix and libLibTorchSharp.so are Linux-only; elsewhere there is nothing to check.
        }

        string[] shims = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(shims);

        string? system = ElfVersionPatcher.FindSystemLibrary(Libstdcxx);
        bool systemDefinesIt = system is not null
            && ElfVersionPatcher.ReadVersionDefinitions(File.ReadAllBytes(system)).Contains(Glibcxx3432);
        foreach (string shim in shims)
        {
            ElfVersionRequirement? requirement = ElfVersionPatcher.FindRequirement(File.ReadAllBytes(shim), Libstdcxx, Glibcxx3432);
            Assert.True(requirement is not null, $"{shim} no longer requires {Glibcxx3432}: revisit build/TorchSharpGlibcxxFix.targets.");

            // Patched (weak) where the system lacks the version; left alone (strong) where it has it.
            Assert.True(
                requirement.IsWeak == !systemDefinesIt,
                $"{shim}: {Glibcxx3432} flags 0x{requirement.Flags:x}; system {Libstdcxx} = {system ?? "none"}, defines it: {systemDefinesIt}.");
        }
    }

    [Fact]
    public void ReadNeededLibraries_OutputShim_ListsLibtorchBeforeTheSystemLibraries()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // libLibTorchSharp.so is Linux's.
        }

        // readelf -d libLibTorchSharp.so (TorchSharp 0.107.0): NEEDED libtorch.so, libc10.so, libtorch_cpu.so, libstdc++.so.6,
        // libm.so.6, libgcc_s.so.1, libc.so.6, ld-linux-x86-64.so.2. The run-time fallback loads the first three from the
        // shim's folder before its relaxed copy.
        string shim = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).First();

        IReadOnlyList<string> needed = ElfVersionPatcher.ReadNeededLibraries(File.ReadAllBytes(shim));

        Assert.Equal(["libtorch.so", "libc10.so", "libtorch_cpu.so", Libstdcxx], needed.Take(4));
    }

    // ---- When libtorch cannot load, the bridge says why in one line ----

    [Fact]
    public void DescribeLoadFailure_GarbageShim_GivesTheDynamicLoadersReasonInOneLine()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // dlopen's messages are Linux's.
        }

        string directory = Directory.CreateTempSubdirectory("torch-loader-").FullName;
        try
        {
            string shim = Path.Combine(directory, "libLibTorchSharp.so");
            File.WriteAllText(shim, "this is not a shared library, but long enough to have an ELF header's size\n");

            string message = TorchNativeLoader.DescribeLoadFailure([directory], relaxedShimFailure: null, TorchSharpsOwnError());

            Assert.DoesNotContain('\n', message);
            Assert.StartsWith($"TorchSharp cannot load libtorch: dlopen: {shim}: ", message, StringComparison.Ordinal);
            Assert.Contains("invalid ELF header", message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void DescribeLoadFailure_NoShimAnywhere_NamesTheFoldersSearchedInOneLine()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Elsewhere the message is TorchSharp's own first line.
        }

        string directory = Directory.CreateTempSubdirectory("torch-loader-").FullName;
        try
        {
            string message = TorchNativeLoader.DescribeLoadFailure([directory], relaxedShimFailure: null, TorchSharpsOwnError());

            Assert.DoesNotContain('\n', message);
            Assert.Contains($"libLibTorchSharp.so is in none of the native library directories ({directory})", message, StringComparison.Ordinal);
            Assert.Contains("does the project reference TorchSharp-cpu?", message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // ---- ElfVersionPatcher on a synthetic ELF ----

    [Fact]
    public void ReadVersionRequirements_TwoVerneedEntries_WalksBothChains()
    {
        byte[] elf = SyntheticElf.Build(StandardNeeds, definitions: []);

        IReadOnlyList<ElfVersionRequirement> requirements = ElfVersionPatcher.ReadVersionRequirements(elf);

        Assert.Equal(
            ["libc.so.6/GLIBC_2.34", "libstdc++.so.6/GLIBCXX_3.4.30", "libstdc++.so.6/GLIBCXX_3.4.32"],
            requirements.Select(r => $"{r.File}/{r.Version}"));
        Assert.All(requirements, r => Assert.False(r.IsWeak));
    }

    [Fact]
    public void MakeRequirementWeak_StrongEntry_SetsOnlyTheWeakBitOfThatEntry()
    {
        byte[] original = SyntheticElf.Build(StandardNeeds, definitions: []);
        byte[] elf = (byte[])original.Clone();

        bool changed = ElfVersionPatcher.MakeRequirementWeak(elf, Libstdcxx, Glibcxx3432);

        Assert.True(changed);
        long flagsOffset = ElfVersionPatcher.FindRequirement(original, Libstdcxx, Glibcxx3432)!.FlagsOffset;
        int[] differing = Enumerable.Range(0, elf.Length).Where(i => elf[i] != original[i]).ToArray();
        Assert.Equal([(int)flagsOffset], differing); // vna_flags is little-endian: VER_FLG_WEAK (0x2) is in its low byte.
        Assert.Equal(ElfVersionPatcher.VerFlagWeak, elf[flagsOffset]);
        Assert.Equal(
            [false, false, true],
            ElfVersionPatcher.ReadVersionRequirements(elf).Select(r => r.IsWeak));
    }

    [Fact]
    public void MakeRequirementWeak_CalledTwice_SecondCallChangesNothing()
    {
        byte[] elf = SyntheticElf.Build(StandardNeeds, definitions: []);
        ElfVersionPatcher.MakeRequirementWeak(elf, Libstdcxx, Glibcxx3432);
        byte[] once = (byte[])elf.Clone();

        bool changed = ElfVersionPatcher.MakeRequirementWeak(elf, Libstdcxx, Glibcxx3432);

        Assert.False(changed);
        Assert.Equal(once, elf);
    }

    [Fact]
    public void MakeRequirementWeak_NoSuchRequirement_ThrowsNamingIt()
    {
        byte[] elf = SyntheticElf.Build([("libstdc++.so.6", ["GLIBCXX_3.4.30"])], definitions: []);

        var error = Assert.Throws<ElfFormatException>(() => ElfVersionPatcher.MakeRequirementWeak(elf, Libstdcxx, Glibcxx3432));

        Assert.Contains(Glibcxx3432, error.Message, StringComparison.Ordinal);
        Assert.Contains(Libstdcxx, error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[], string> GarbageInputs()
    {
        byte[] valid = SyntheticElf.Build(StandardNeeds, definitions: []);
        byte[] elf32 = (byte[])valid.Clone();
        elf32[4] = 1; // EI_CLASS = ELFCLASS32
        byte[] badLink = (byte[])valid.Clone();
        badLink[SyntheticElf.SectionHeaderOffset(badLink, 2) + 40] = 0; // .gnu.version_r's sh_link -> section 0
        byte[] farAux = (byte[])valid.Clone();
        farAux[SyntheticElf.SectionOffset(farAux, 2) + 8 + 3] = 0x7f; // first vn_aux points ~2 GB away
        return new TheoryData<string, byte[], string>
        {
            { "empty", [], "not an ELF file" },
            { "text", Encoding.ASCII.GetBytes("#!/bin/sh\necho this is not a shared library\n"), "not an ELF file" },
            { "ELF32", elf32, "64-bit little-endian" },
            { "truncated", valid[..100], "section header table" },
            { "bad sh_link", badLink, "not a string table" },
            { "vn_aux out of section", farAux, "outside its section" },
        };
    }

    [Theory]
    [MemberData(nameof(GarbageInputs))]
    public void MakeRequirementWeak_Garbage_ThrowsElfFormatExceptionWithCause(string name, byte[] bytes, string cause)
    {
        var error = Assert.Throws<ElfFormatException>(() => ElfVersionPatcher.MakeRequirementWeak(bytes, Libstdcxx, Glibcxx3432));

        Assert.True(error.Message.Contains(cause, StringComparison.Ordinal), $"{name}: \"{error.Message}\" lacks \"{cause}\".");
    }

    [Property(MaxTest = 500)]
    public void ReadVersionRequirements_AnySingleByteCorruption_ParsesOrThrowsElfFormatException(int position, byte value)
    {
        // Robustness: a corrupted file must never cause an IndexOutOfRange, overflow or endless loop.
        byte[] elf = SyntheticElf.Build(StandardNeeds, definitions: ["libstdc++.so.6", Glibcxx3432]);
        elf[(int)((uint)position % (uint)elf.Length)] = value;

        try
        {
            _ = ElfVersionPatcher.ReadVersionRequirements(elf);
            _ = ElfVersionPatcher.ReadVersionDefinitions(elf);
        }
        catch (ElfFormatException)
        {
        }
    }

    [Fact]
    public void ReadVersionDefinitions_SyntheticLibstdcxx_ListsDefinedVersions()
    {
        byte[] elf = SyntheticElf.Build([], definitions: ["libstdc++.so.6", "GLIBCXX_3.4", "GLIBCXX_3.4.32"]);

        Assert.Equal(["libstdc++.so.6", "GLIBCXX_3.4", "GLIBCXX_3.4.32"], ElfVersionPatcher.ReadVersionDefinitions(elf));
    }

    [Fact]
    public void MakeRequirementWeakInFile_HardLinkedAndSymlinkedFiles_ReplacesTheLinkAndLeavesTheTargetAlone()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Links are created with Linux's link(2) and symlink(2) here.
        }

        string directory = Directory.CreateTempSubdirectory("elf-patcher-").FullName;
        try
        {
            byte[] original = SyntheticElf.Build(StandardNeeds, definitions: []);
            string cache = Path.Combine(directory, "cache.so"); // stands in for the NuGet cache copy
            File.WriteAllBytes(cache, original);
            var timestamp = new DateTime(2026, 5, 7, 10, 3, 28, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(cache, timestamp);
            string hardLink = Path.Combine(directory, "hard.so");
            Assert.True(Link(cache, hardLink) == 0, $"link(2) failed: errno {Marshal.GetLastPInvokeError()}");
            string symLink = Path.Combine(directory, "sym.so");
            File.CreateSymbolicLink(symLink, cache);

            ElfPatchResult hard = ElfVersionPatcher.MakeRequirementWeakInFile(hardLink, Libstdcxx, Glibcxx3432);
            ElfPatchResult sym = ElfVersionPatcher.MakeRequirementWeakInFile(symLink, Libstdcxx, Glibcxx3432);
            ElfPatchResult again = ElfVersionPatcher.MakeRequirementWeakInFile(hardLink, Libstdcxx, Glibcxx3432);

            Assert.Equal(ElfPatchOutcome.Patched, hard.Outcome);
            Assert.Equal(ElfPatchOutcome.Patched, sym.Outcome);
            Assert.Equal(ElfPatchOutcome.AlreadyWeak, again.Outcome);
            Assert.Equal(original, File.ReadAllBytes(cache));
            Assert.Null(new FileInfo(symLink).LinkTarget); // now a regular file of its own
            foreach (string patched in new[] { hardLink, symLink })
            {
                Assert.True(ElfVersionPatcher.FindRequirement(File.ReadAllBytes(patched), Libstdcxx, Glibcxx3432)!.IsWeak);

                // Same size and timestamp as the source, so MSBuild's incremental copy does not restore the original.
                Assert.Equal(timestamp, File.GetLastWriteTimeUtc(patched));
            }

            Assert.Equal(["cache.so", "hard.so", "sym.so"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static readonly (string File, string[] Versions)[] StandardNeeds =
    [
        ("libc.so.6", ["GLIBC_2.34"]),
        ("libstdc++.so.6", ["GLIBCXX_3.4.30", "GLIBCXX_3.4.32"]),
    ];

    /// <summary>What TorchSharp 0.107.0 throws when its shim does not load (its message spans many lines).</summary>
    private static TypeInitializationException TorchSharpsOwnError() =>
        new("TorchSharp.torch", new NotSupportedException(
            "This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64, Version=2.10.0.0.\n\nTrace from LoadNativeBackend: ..."));

    private static double Grad(Tensor leaf) =>
        (leaf.grad ?? throw new InvalidOperationException("no gradient was accumulated")).item<double>();

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
#pragma warning disable SYSLIB1054 // A one-off test helper; a source-generated LibraryImport would need unsafe code enabled.
    private static extern int Link(string existing, string created);
#pragma warning restore SYSLIB1054

    /// <summary>Builds a minimal ELF64 little-endian shared object with .dynstr, .gnu.version_r and .gnu.version_d.</summary>
    private static class SyntheticElf
    {
        private const int HeaderSize = 64;
        private const int SectionHeaderSize = 64;

        public static byte[] Build(IReadOnlyList<(string File, string[] Versions)> needs, IReadOnlyList<string> definitions)
        {
            // .dynstr: offset 0 is the empty string.
            var strings = new List<byte> { 0 };
            var stringOffsets = new Dictionary<string, uint>();
            uint Str(string s)
            {
                if (!stringOffsets.TryGetValue(s, out uint offset))
                {
                    offset = (uint)strings.Count;
                    strings.AddRange(Encoding.ASCII.GetBytes(s));
                    strings.Add(0);
                    stringOffsets[s] = offset;
                }

                return offset;
            }

            // .gnu.version_r: each Elf64_Verneed (16 bytes) followed by its Elf64_Vernaux entries (16 bytes each).
            var verneed = new List<byte>();
            ushort index = 2;
            for (int i = 0; i < needs.Count; i++)
            {
                (string library, string[] versions) = needs[i];
                bool last = i == needs.Count - 1;
                Put16(verneed, 1);                                            // vn_version
                Put16(verneed, (ushort)versions.Length);                      // vn_cnt
                Put32(verneed, Str(library));                                 // vn_file
                Put32(verneed, 16);                                           // vn_aux
                Put32(verneed, last ? 0u : (uint)(16 + (16 * versions.Length))); // vn_next
                for (int j = 0; j < versions.Length; j++)
                {
                    Put32(verneed, 0);                                        // vna_hash (not checked here)
                    Put16(verneed, 0);                                        // vna_flags
                    Put16(verneed, index++);                                  // vna_other
                    Put32(verneed, Str(versions[j]));                         // vna_name
                    Put32(verneed, j == versions.Length - 1 ? 0u : 16u);      // vna_next
                }
            }

            // .gnu.version_d: each Elf64_Verdef (20 bytes) followed by one Elf64_Verdaux (8 bytes).
            var verdef = new List<byte>();
            for (int i = 0; i < definitions.Count; i++)
            {
                Put16(verdef, 1);                                             // vd_version
                Put16(verdef, (ushort)(i == 0 ? 1 : 0));                      // vd_flags (VER_FLG_BASE for the first)
                Put16(verdef, (ushort)(i + 1));                               // vd_ndx
                Put16(verdef, 1);                                             // vd_cnt
                Put32(verdef, 0);                                             // vd_hash
                Put32(verdef, 20);                                            // vd_aux
                Put32(verdef, i == definitions.Count - 1 ? 0u : 28u);         // vd_next
                Put32(verdef, Str(definitions[i]));                           // vda_name
                Put32(verdef, 0);                                             // vda_next
            }

            var file = new List<byte>(new byte[HeaderSize]);
            long dynstr = Append(file, strings);
            long versionR = Append(file, verneed);
            long versionD = Append(file, verdef);
            long sectionHeaders = Append(file, []);

            // Section headers: [0] SHT_NULL, [1] .dynstr, [2] .gnu.version_r, [3] .gnu.version_d.
            file.AddRange(new byte[SectionHeaderSize]);
            AddSection(file, type: 3, dynstr, strings.Count, link: 0, info: 0);
            AddSection(file, type: ElfVersionPatcher.ShtGnuVerneed, versionR, verneed.Count, link: 1, info: (uint)needs.Count);
            AddSection(file, type: ElfVersionPatcher.ShtGnuVerdef, versionD, verdef.Count, link: 1, info: (uint)definitions.Count);

            byte[] elf = [.. file];
            byte[] ident = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1];     // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
            ident.CopyTo(elf, 0);
            Write16(elf, 16, 3);                                                // e_type = ET_DYN
            Write16(elf, 18, 62);                                               // e_machine = EM_X86_64
            Write32(elf, 20, 1);                                                // e_version
            Write64(elf, 40, (ulong)sectionHeaders);                            // e_shoff
            Write16(elf, 52, HeaderSize);                                       // e_ehsize
            Write16(elf, 58, SectionHeaderSize);                                // e_shentsize
            Write16(elf, 60, 4);                                                // e_shnum
            return elf;
        }

        /// <summary>File offset of section <paramref name="index"/>'s header.</summary>
        public static int SectionHeaderOffset(byte[] elf, int index) =>
            (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(40)) + (index * SectionHeaderSize);

        /// <summary>File offset of section <paramref name="index"/>'s contents (sh_offset).</summary>
        public static int SectionOffset(byte[] elf, int index) =>
            (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(SectionHeaderOffset(elf, index) + 24));

        private static long Append(List<byte> file, List<byte> data)
        {
            while (file.Count % 8 != 0)
            {
                file.Add(0);
            }

            long offset = file.Count;
            file.AddRange(data);
            return offset;
        }

        private static void AddSection(List<byte> file, uint type, long offset, int size, uint link, uint info)
        {
            var header = new byte[SectionHeaderSize];
            Write32(header, 4, type);
            Write64(header, 24, (ulong)offset);
            Write64(header, 32, (ulong)size);
            Write32(header, 40, link);
            Write32(header, 44, info);
            Write64(header, 48, type == 3 ? 1u : 8u);                           // sh_addralign
            file.AddRange(header);
        }

        private static void Put16(List<byte> list, ushort value)
        {
            var bytes = new byte[2];
            Write16(bytes, 0, value);
            list.AddRange(bytes);
        }

        private static void Put32(List<byte> list, uint value)
        {
            var bytes = new byte[4];
            Write32(bytes, 0, value);
            list.AddRange(bytes);
        }

        private static void Write16(byte[] buffer, int offset, ushort value) =>
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(offset), value);

        private static void Write32(byte[] buffer, int offset, uint value) =>
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(offset), value);

        private static void Write64(byte[] buffer, int offset, ulong value) =>
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(offset), value);
    }
}
