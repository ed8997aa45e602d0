using System.Net;
using GradientDescent.Autodiff.Teaching;
using Microsoft.DotNet.Interactive.Formatting;

namespace GradientDescent.Autodiff.Notebooks;

/// <summary>
/// Registers .NET Interactive formatters so that a <see cref="Tape"/>, a <see cref="BackwardTrace"/> or a
/// <see cref="GradientCheckReport"/> displayed in a Polyglot or Jupyter notebook cell renders as HTML (text/html),
/// and as its text form (text/plain) where a front end shows only text.
/// </summary>
/// <remarks>
/// In a notebook: <c>#r</c> this assembly (with the core and the teaching tools beside it), call
/// <see cref="Register"/> once, then end a cell with a tape, a trace or a report.
/// </remarks>
public static class NotebookFormatters
{
    /// <summary>Registers every formatter of this assembly with <see cref="Formatter"/>; calling it again replaces them.</summary>
    public static void Register()
    {
        Formatter.Register<Tape>((tape, writer) => writer.Write(ToHtml(tape)), HtmlFormatter.MimeType);
        Formatter.Register<Tape>((tape, writer) => writer.Write(tape.Format()), PlainTextFormatter.MimeType);
        Formatter.Register<BackwardTrace>((trace, writer) => writer.Write(ToHtml(trace)), HtmlFormatter.MimeType);
        Formatter.Register<BackwardTrace>((trace, writer) => writer.Write(trace.ToText()), PlainTextFormatter.MimeType);
        Formatter.Register<GradientCheckReport>((report, writer) => writer.Write(ToHtml(report)), HtmlFormatter.MimeType);
        Formatter.Register<GradientCheckReport>((report, writer) => writer.Write(report.ToString()), PlainTextFormatter.MimeType);
    }

    /// <summary>
    /// The tape as a notebook shows it: its graph as inline SVG (<see cref="SvgWriter"/>: one box per node with its
    /// value and, after backward, ∂L/∂node; parameters, constants and ops told apart). A graph larger than
    /// <see cref="PictureOptions.DefaultNodeLimit"/> nodes is not drawn: the cell shows why and what to do instead.
    /// </summary>
    public static string ToHtml(Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        try
        {
            return SvgWriter.Write(tape);
        }
        catch (ArgumentException refused) when (tape.NodeCount > PictureOptions.DefaultNodeLimit)
        {
            // The documented refusal of a graph too large to read; its message gives the size and what to do.
            return $"<p class=\"gdad-refused\">{WebUtility.HtmlEncode(refused.Message)}</p>";
        }
    }

    /// <summary>
    /// The trace as a notebook shows it: its aligned step table (<see cref="BackwardTrace.ToText"/>) in a <c>pre</c>
    /// block, where the monospace columns line up.
    /// </summary>
    public static string ToHtml(BackwardTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return $"<pre class=\"gdad-trace\">{WebUtility.HtmlEncode(trace.ToText())}</pre>";
    }

    /// <summary>The report as a notebook shows it: a table per parameter and reference with a closing verdict.</summary>
    public static string ToHtml(GradientCheckReport report) => GradientCheckHtml.Write(report);
}
