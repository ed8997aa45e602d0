using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace GradientDescent.Autodiff.Testing;

/// <summary>
/// Finds, by reading IL, the methods of an assembly that hand libtorch a TorchSharp <c>Scalar</c> nobody disposes.
/// </summary>
/// <remarks>
/// A TorchSharp 0.107 <c>Scalar</c> owns a native handle that only its <c>Dispose</c> or its finalizer frees. One made
/// implicitly — <c>x * 0.5</c>, <c>x.mul(0.5)</c>, and inside TorchSharp itself <c>x.add(y)</c> (alpha = 1),
/// <c>x + y</c>, <c>x.square()</c> (pow(2)), <c>F.leaky_relu(x, slope)</c> — is unreachable once its handle is read,
/// so a collection during the native call can finalize it while libtorch still reads it: "Unknown scalar type" from
/// c10, or a wrong number. A method is flagged when it calls a TorchSharp method that makes such a Scalar (one that
/// converts to Scalar and never disposes one, or calls such a method: the closure over TorchSharp's own calls), or
/// converts to a Scalar itself and never calls <c>Scalar.Dispose</c>.
/// </remarks>
public static class UndisposedTorchScalars
{
    /// <summary>
    /// "Type.Method calls TorchSharpType.Member(parameters)" for every such call in <paramref name="assemblyPath"/>,
    /// outside the types named in <paramref name="allowedTypes"/>; <paramref name="torchSharpPath"/> is TorchSharp.dll.
    /// </summary>
    public static List<string> Find(string assemblyPath, string torchSharpPath, params string[] allowedTypes)
    {
        HashSet<string> unsafeMembers = UnsafeTorchSharpMembers(torchSharpPath);
        using FileStream stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        var found = new List<string>();
        foreach (TypeDefinitionHandle th in md.TypeDefinitions)
        {
            TypeDefinition type = md.GetTypeDefinition(th);
            string typeName = OuterName(md, type);
            if (allowedTypes.Contains(typeName)) continue;
            foreach (MethodDefinitionHandle mh in type.GetMethods())
            {
                MethodDefinition method = md.GetMethodDefinition(mh);
                if (method.RelativeVirtualAddress == 0) continue;
                var calls = Calls(md, pe.GetMethodBody(method.RelativeVirtualAddress)).Select(h => MemberKey(md, h)).ToList();
                string where = $"{md.GetString(type.Name)}.{md.GetString(method.Name)}";
                foreach (string call in calls.Where(c => unsafeMembers.Contains(c) && !IsConversion(c)).Distinct()) found.Add($"{where} calls {call}");
                if (calls.Any(IsConversion) && !calls.Any(IsDispose)) found.Add($"{where} makes a Scalar it never disposes");
            }
        }
        return found;
    }

    /// <summary>TorchSharp's members that make a Scalar they do not dispose, directly or through one another.</summary>
    public static HashSet<string> UnsafeTorchSharpMembers(string torchSharpPath)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(torchSharpPath, out HashSet<string>? known)) return known;
            using FileStream stream = File.OpenRead(torchSharpPath);
            using var pe = new PEReader(stream);
            MetadataReader md = pe.GetMetadataReader();
            var callsOf = new Dictionary<string, List<string>>();
            var result = new HashSet<string>();
            foreach (TypeDefinitionHandle th in md.TypeDefinitions)
            {
                foreach (MethodDefinitionHandle mh in md.GetTypeDefinition(th).GetMethods())
                {
                    MethodDefinition method = md.GetMethodDefinition(mh);
                    if (method.RelativeVirtualAddress == 0) continue;
                    string key = MemberKey(md, mh);
                    List<string> calls = [.. Calls(md, pe.GetMethodBody(method.RelativeVirtualAddress)).Select(h => MemberKey(md, h))];
                    callsOf[key] = calls;
                    if (calls.Any(IsConversion) && !calls.Any(IsDispose)) result.Add(key);
                }
            }
            // The closure: a method that calls one that makes an undisposed Scalar makes one too (x.add(y) calls
            // add(y, 1); x + y calls x.add(y)).
            for (bool grew = true; grew;)
            {
                grew = false;
                foreach ((string key, List<string> calls) in callsOf)
                {
                    if (!result.Contains(key) && calls.Any(result.Contains)) grew = result.Add(key) | grew;
                }
            }
            Cache[torchSharpPath] = result;
            return result;
        }
    }

    private static readonly Dictionary<string, HashSet<string>> Cache = [];

    private static bool IsConversion(string member) =>
        member.StartsWith("TorchSharp.Scalar::op_Implicit(", StringComparison.Ordinal)
        || member.StartsWith("TorchSharp.ScalarExtensionMethods::To", StringComparison.Ordinal);

    // A using statement calls IDisposable.Dispose; TorchSharp's own code may call the Scalar's.
    private static bool IsDispose(string member) => member is "TorchSharp.Scalar::Dispose()" or "System.IDisposable::Dispose()";

    /// <summary>The methods a body calls (call, callvirt, newobj, ldftn): their handles, read from the IL.</summary>
    private static IEnumerable<EntityHandle> Calls(MetadataReader md, MethodBodyBlock body)
    {
        BlobReader il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            ILOpCode op = ReadOpCode(ref il);
            switch (op)
            {
                case ILOpCode.Call or ILOpCode.Callvirt or ILOpCode.Newobj or ILOpCode.Ldftn or ILOpCode.Ldvirtftn:
                {
                    EntityHandle h = MetadataTokens.EntityHandle(il.ReadInt32());
                    if (h.Kind == HandleKind.MethodSpecification) h = md.GetMethodSpecification((MethodSpecificationHandle)h).Method;
                    yield return h;
                    break;
                }
                case ILOpCode.Switch:
                    il.Offset += 4 * (int)il.ReadUInt32();
                    break;
                default:
                    il.Offset += OperandSize(op);
                    break;
            }
        }
    }

    private static ILOpCode ReadOpCode(ref BlobReader il)
    {
        byte first = il.ReadByte();
        return first == 0xFE ? (ILOpCode)(0xFE00 | il.ReadByte()) : (ILOpCode)first;
    }

    /// <summary>The operand bytes of an opcode (ECMA-335 III), switch excepted.</summary>
    private static int OperandSize(ILOpCode op) => op switch
    {
        ILOpCode.Ldarg_s or ILOpCode.Ldarga_s or ILOpCode.Starg_s or ILOpCode.Ldloc_s or ILOpCode.Ldloca_s
            or ILOpCode.Stloc_s or ILOpCode.Ldc_i4_s or ILOpCode.Unaligned
            or >= ILOpCode.Br_s and <= ILOpCode.Blt_un_s or ILOpCode.Leave_s => 1,
        ILOpCode.Ldarg or ILOpCode.Ldarga or ILOpCode.Starg or ILOpCode.Ldloc or ILOpCode.Ldloca or ILOpCode.Stloc => 2,
        ILOpCode.Ldc_i8 or ILOpCode.Ldc_r8 => 8,
        ILOpCode.Ldc_i4 or ILOpCode.Ldc_r4 or >= ILOpCode.Br and <= ILOpCode.Blt_un or ILOpCode.Leave
            or ILOpCode.Jmp or ILOpCode.Calli or ILOpCode.Cpobj or ILOpCode.Ldobj or ILOpCode.Ldstr or ILOpCode.Castclass
            or ILOpCode.Isinst or ILOpCode.Unbox or ILOpCode.Ldfld or ILOpCode.Ldflda or ILOpCode.Stfld or ILOpCode.Ldsfld
            or ILOpCode.Ldsflda or ILOpCode.Stsfld or ILOpCode.Stobj or ILOpCode.Box or ILOpCode.Newarr or ILOpCode.Ldelema
            or ILOpCode.Ldelem or ILOpCode.Stelem or ILOpCode.Unbox_any or ILOpCode.Refanyval or ILOpCode.Mkrefany
            or ILOpCode.Ldtoken or ILOpCode.Initobj or ILOpCode.Constrained or ILOpCode.Sizeof => 4,
        _ => 0,
    };

    /// <summary>"Namespace.Outer.Type::Name(parameter types)" of a method definition or reference.</summary>
    private static string MemberKey(MetadataReader md, EntityHandle h)
    {
        TypeNames names = TypeNames.Instance;
        switch (h.Kind)
        {
            case HandleKind.MethodDefinition:
            {
                MethodDefinition m = md.GetMethodDefinition((MethodDefinitionHandle)h);
                MethodSignature<string> sig = m.DecodeSignature(names, null);
                return $"{names.GetTypeFromDefinition(md, m.GetDeclaringType(), 0)}::{md.GetString(m.Name)}({string.Join(",", sig.ParameterTypes)})";
            }
            case HandleKind.MemberReference:
            {
                MemberReference r = md.GetMemberReference((MemberReferenceHandle)h);
                if (r.GetKind() != MemberReferenceKind.Method) return "";
                string parent = r.Parent.Kind switch
                {
                    HandleKind.TypeReference => names.GetTypeFromReference(md, (TypeReferenceHandle)r.Parent, 0),
                    HandleKind.TypeDefinition => names.GetTypeFromDefinition(md, (TypeDefinitionHandle)r.Parent, 0),
                    HandleKind.TypeSpecification => names.GetTypeFromSpecification(md, null, (TypeSpecificationHandle)r.Parent, 0),
                    _ => "?",
                };
                MethodSignature<string> sig = r.DecodeMethodSignature(names, null);
                return $"{parent}::{md.GetString(r.Name)}({string.Join(",", sig.ParameterTypes)})";
            }
            default:
                return "";
        }
    }

    private static string OuterName(MetadataReader md, TypeDefinition type)
    {
        // A lambda's closure class is nested in the type that wrote it: allowing a type allows its lambdas.
        while (type.GetDeclaringType() is { IsNil: false } outer) type = md.GetTypeDefinition(outer);
        return md.GetString(type.Name);
    }

    /// <summary>Type names as text, the same for a type's definition (in TorchSharp) and a reference to it (in ours).</summary>
    private sealed class TypeNames : ISignatureTypeProvider<string, object?>
    {
        public static readonly TypeNames Instance = new();

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => "System." + typeCode;

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            TypeDefinition t = reader.GetTypeDefinition(handle);
            TypeDefinitionHandle outer = t.GetDeclaringType();
            string prefix = outer.IsNil ? reader.GetString(t.Namespace) : GetTypeFromDefinition(reader, outer, 0);
            return prefix + "." + reader.GetString(t.Name);
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            TypeReference t = reader.GetTypeReference(handle);
            string prefix = t.ResolutionScope.Kind == HandleKind.TypeReference
                ? GetTypeFromReference(reader, (TypeReferenceHandle)t.ResolutionScope, 0)
                : reader.GetString(t.Namespace);
            return prefix + "." + reader.GetString(t.Name);
        }

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[" + new string(',', shape.Rank - 1) + "]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPinnedType(string elementType) => elementType;
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType + "<" + string.Join(",", typeArguments) + ">";
        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
    }
}
