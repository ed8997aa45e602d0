using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>The infix operators. Subtraction and division are their own nodes (as the user typed them), not a + (−b).</summary>
internal enum BinaryOperator : byte
{
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
}

/// <summary>
/// A node of the parsed formula, with its span in the text (UTF-16 offset and length). The tree is what was typed;
/// recording it on a tape is a separate step (<see cref="Expression.Record"/>).
/// </summary>
/// <remarks>
/// A subtree without variables is a constant: <see cref="ConstantValue"/> holds its value, computed once at parse time
/// by the library's own kernels, and recording uses the ops that take a number (x·c, x^c, max(x, c), …) instead of
/// constant nodes.
/// </remarks>
internal abstract class Syntax(int offset, int length)
{
    /// <summary>Where the node starts in the text (UTF-16 index).</summary>
    public int Offset { get; } = offset;

    /// <summary>How far it reaches (UTF-16 code units).</summary>
    public int Length { get; } = length;

    /// <summary>The end of the span.</summary>
    public int End => Offset + Length;

    /// <summary>The value when the subtree has no variable; null otherwise.</summary>
    public double? ConstantValue { get; internal set; }

    /// <summary>Whether the subtree has no variable.</summary>
    public abstract bool IsConstant { get; }

    /// <summary>The longest path to a leaf (a leaf is 1).</summary>
    public abstract int Depth { get; }

    /// <summary>How tightly the node holds together when printed: 1 + −, 2 * /, 3 unary, 4 ^, 5 atoms.</summary>
    public abstract int Precedence { get; }

    // ------------------------------------------------------------------ printing

    internal const int Additive = 1, Multiplicative = 2, Unary = 3, Power = 4, Atom = 5;

    /// <summary>Parseable text with the fewest parentheses that keep this tree: printing and parsing again gives the same tree.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Print(sb);
        return sb.ToString();
    }

    internal abstract void Print(StringBuilder sb);

    /// <summary>The tree as an S-expression, "(+ x (* 2 y))", numbers in round-trip form: two trees are equal when these are.</summary>
    internal string ToSExpression()
    {
        var sb = new StringBuilder();
        PrintS(sb);
        return sb.ToString();
    }

    internal abstract void PrintS(StringBuilder sb);

    /// <summary>Prints <paramref name="child"/>, in parentheses when <paramref name="parens"/>.</summary>
    protected static void PrintChild(StringBuilder sb, Syntax child, bool parens)
    {
        if (parens) sb.Append('(');
        child.Print(sb);
        if (parens) sb.Append(')');
    }

    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A number as typed (never negative: −2 is a unary minus applied to 2).</summary>
internal sealed class NumberSyntax : Syntax
{
    public NumberSyntax(int offset, int length, double value) : base(offset, length)
    {
        Value = value;
        ConstantValue = value;
    }

    public double Value { get; }
    public override bool IsConstant => true;
    public override int Depth => 1;
    public override int Precedence => Atom;
    internal override void Print(StringBuilder sb) => sb.Append(Format(Value));
    internal override void PrintS(StringBuilder sb) => sb.Append(Format(Value));
}

/// <summary>pi or e.</summary>
internal sealed class NamedConstantSyntax : Syntax
{
    public NamedConstantSyntax(int offset, int length, string name, double value) : base(offset, length)
    {
        Name = name;
        ConstantValue = value;
    }

    public string Name { get; }
    public override bool IsConstant => true;
    public override int Depth => 1;
    public override int Precedence => Atom;
    internal override void Print(StringBuilder sb) => sb.Append(Name);
    internal override void PrintS(StringBuilder sb) => sb.Append(Name);
}

/// <summary>A named variable.</summary>
internal sealed class VariableSyntax(int offset, int length, string name) : Syntax(offset, length)
{
    public string Name { get; } = name;
    public override bool IsConstant => false;
    public override int Depth => 1;
    public override int Precedence => Atom;
    internal override void Print(StringBuilder sb) => sb.Append(Name);
    internal override void PrintS(StringBuilder sb) => sb.Append(Name);
}

/// <summary>−x or +x.</summary>
internal sealed class UnarySyntax(int offset, int length, bool negate, Syntax operand) : Syntax(offset, length)
{
    public bool Negate { get; } = negate;
    public Syntax Operand { get; } = operand;
    public override bool IsConstant => Operand.IsConstant;
    public override int Depth { get; } = 1 + operand.Depth;
    public override int Precedence => Unary;

    internal override void Print(StringBuilder sb)
    {
        sb.Append(Negate ? '-' : '+');
        // −x^2 is −(x^2) and −−x is −(−x), so those need none; −(a*b) does (−a*b is (−a)*b).
        PrintChild(sb, Operand, Operand.Precedence < Unary);
    }

    internal override void PrintS(StringBuilder sb)
    {
        sb.Append(Negate ? "(- " : "(+ ");
        Operand.PrintS(sb);
        sb.Append(')');
    }
}

/// <summary>a + b, a − b, a·b, a/b, a^b.</summary>
internal sealed class BinarySyntax(BinaryOperator op, Syntax left, Syntax right) : Syntax(left.Offset, right.End - left.Offset)
{
    public BinaryOperator Operator { get; } = op;
    public Syntax Left { get; } = left;
    public Syntax Right { get; } = right;
    public override bool IsConstant => Left.IsConstant && Right.IsConstant;
    public override int Depth { get; } = 1 + Math.Max(left.Depth, right.Depth);

    public override int Precedence => Operator switch
    {
        BinaryOperator.Add or BinaryOperator.Subtract => Additive,
        BinaryOperator.Multiply or BinaryOperator.Divide => Multiplicative,
        _ => Power,
    };

    internal static string Symbol(BinaryOperator op) => op switch
    {
        BinaryOperator.Add => "+",
        BinaryOperator.Subtract => "-",
        BinaryOperator.Multiply => "*",
        BinaryOperator.Divide => "/",
        _ => "^",
    };

    internal override void Print(StringBuilder sb)
    {
        int p = Precedence;
        if (Operator == BinaryOperator.Power)
        {
            // Right-associative: (a^b)^c needs its parentheses, a^b^c is a^(b^c); a unary exponent needs none
            // (x^-y is x^(−y), as in Python's x**-y), and a unary base does ((−x)^2 is not −x^2).
            PrintChild(sb, Left, Left.Precedence <= p);
            sb.Append('^');
            PrintChild(sb, Right, Right.Precedence < p && Right.Precedence != Unary);
            return;
        }
        // Left-associative: a − b − c is (a − b) − c, so a − (b − c) and a/(b*c) keep theirs.
        PrintChild(sb, Left, Left.Precedence < p);
        sb.Append(p == Additive ? $" {Symbol(Operator)} " : Symbol(Operator));
        PrintChild(sb, Right, Right.Precedence <= p);
    }

    internal override void PrintS(StringBuilder sb)
    {
        sb.Append('(').Append(Symbol(Operator)).Append(' ');
        Left.PrintS(sb);
        sb.Append(' ');
        Right.PrintS(sb);
        sb.Append(')');
    }
}

/// <summary>A function applied to its arguments: sin(x), max(a, b), leaky_relu(x, 0.2).</summary>
internal sealed class CallSyntax(int offset, int length, FunctionInfo function, Syntax[] arguments) : Syntax(offset, length)
{
    public FunctionInfo Function { get; } = function;
    public IReadOnlyList<Syntax> Arguments { get; } = arguments;
    public override bool IsConstant => Arguments.All(a => a.IsConstant);
    public override int Depth { get; } = 1 + arguments.Max(a => a.Depth);
    public override int Precedence => Atom;

    internal override void Print(StringBuilder sb)
    {
        sb.Append(Function.Name).Append('(');
        for (int k = 0; k < Arguments.Count; k++)
        {
            if (k > 0) sb.Append(", ");
            Arguments[k].Print(sb);
        }
        sb.Append(')');
    }

    internal override void PrintS(StringBuilder sb)
    {
        sb.Append('(').Append(Function.Name);
        foreach (var a in Arguments)
        {
            sb.Append(' ');
            a.PrintS(sb);
        }
        sb.Append(')');
    }
}
