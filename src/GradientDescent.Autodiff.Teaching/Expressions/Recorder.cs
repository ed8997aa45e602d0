namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// Records a parsed formula on a tape, node by node, with the library's public ops: so its gradient is backward's,
/// its trace is backward's rules and its picture is the tape's.
/// </summary>
/// <remarks>
/// A constant subtree (no variable) is not recorded: its value, computed at parse time, becomes the number of an op
/// that takes one (x + c, c − x, x·c, x/c, x^c, c^x, max(x, c), leaky_relu's slope). A formula without any variable
/// records a single constant node.
/// </remarks>
internal static class Recorder
{
    /// <summary>
    /// Records <paramref name="node"/> on <paramref name="tape"/>; <paramref name="variable"/> gives each variable's
    /// node. With <paramref name="folding"/> (the parser evaluating a constant node) the node's constant children are
    /// recorded as constant nodes and the node itself is computed, not looked up.
    /// </summary>
    internal static Scalar Emit(Syntax node, Tape tape, Func<string, Scalar>? variable, bool folding = false)
    {
        if (!folding && node.ConstantValue is { } value) return tape.Constant(value);
        switch (node)
        {
            case NumberSyntax n:
                return tape.Constant(n.Value);
            case NamedConstantSyntax c:
                return tape.Constant(c.ConstantValue!.Value);
            case VariableSyntax v:
                return variable is null
                    ? throw new InvalidOperationException($"Expression: variable '{v.Name}' in a constant subtree (a bug in the parser).")
                    : variable(v.Name);
            case UnarySyntax u:
            {
                Scalar x = Argument(u.Operand, tape, variable, folding).Scalar;
                return u.Negate ? Scalar.Negate(x) : x;
            }
            case BinarySyntax b:
                return Binary(b.Operator, Argument(b.Left, tape, variable, folding), Argument(b.Right, tape, variable, folding));
            case CallSyntax call:
            {
                var arguments = new Operand[call.Arguments.Count];
                for (int k = 0; k < arguments.Length; k++) arguments[k] = Argument(call.Arguments[k], tape, variable, folding);
                return call.Function.Record(arguments);
            }
            default:
                throw new InvalidOperationException($"Expression: no recording for {node.GetType().Name} (a bug in the recorder).");
        }
    }

    /// <summary>A child as a number (a constant subtree) or as its recorded node.</summary>
    private static Operand Argument(Syntax child, Tape tape, Func<string, Scalar>? variable, bool folding) =>
        child.ConstantValue is { } c
            ? folding ? new Operand(tape.Constant(c), c) : new Operand(null, c)
            : new Operand(Emit(child, tape, variable), 0);

    /// <summary>
    /// The operator on two operands, at most one a number: the library's overloads choose the op (a + c records x + c;
    /// c − a records the constant c and a subtraction; a/c records a division by a constant node; a^c records x^c).
    /// </summary>
    private static Scalar Binary(BinaryOperator op, Operand a, Operand b) => op switch
    {
        BinaryOperator.Add => a.IsNumber ? a.Value + b.Scalar : b.IsNumber ? a.Scalar + b.Value : a.Scalar + b.Scalar,
        BinaryOperator.Subtract => a.IsNumber ? a.Value - b.Scalar : b.IsNumber ? a.Scalar - b.Value : a.Scalar - b.Scalar,
        BinaryOperator.Multiply => a.IsNumber ? a.Value * b.Scalar : b.IsNumber ? a.Scalar * b.Value : a.Scalar * b.Scalar,
        BinaryOperator.Divide => a.IsNumber ? a.Value / b.Scalar : b.IsNumber ? a.Scalar / b.Value : a.Scalar / b.Scalar,
        BinaryOperator.Power => a.IsNumber ? Ops.Pow(a.Value, b.Scalar) : b.IsNumber ? Ops.Pow(a.Scalar, b.Value) : Ops.Pow(a.Scalar, b.Scalar),
        _ => throw new InvalidOperationException($"Expression: no recording for the operator {op} (a bug in the recorder)."),
    };
}
