using GradientDescent.Autodiff.Models;
using ScottPlot;

namespace GradientDescent.Autodiff.Examples.Moons;

/// <summary>
/// The trained classifier's regions and the data, as micrograd's notebook draws them: the sign of score(x) on a grid
/// over the data's range ± 1, the points on top coloured by label.
/// </summary>
public static class DecisionBoundary
{
    /// <summary>Grid cells per unit of x and y.</summary>
    private const int CellsPerUnit = 40;

    /// <summary>Evaluates <paramref name="mlp"/> on a grid (one batched forward pass) and writes a 600 × 450 PNG.</summary>
    public static void WritePng(string path, Mlp mlp, double[] x, double[] y)
    {
        ArgumentNullException.ThrowIfNull(mlp);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int n = y.Length;
        double xMin = Enumerable.Range(0, n).Min(i => x[2 * i]) - 1, xMax = Enumerable.Range(0, n).Max(i => x[2 * i]) + 1;
        double yMin = Enumerable.Range(0, n).Min(i => x[2 * i + 1]) - 1, yMax = Enumerable.Range(0, n).Max(i => x[2 * i + 1]) + 1;
        int cols = (int)Math.Ceiling((xMax - xMin) * CellsPerUnit), rows = (int)Math.Ceiling((yMax - yMin) * CellsPerUnit);

        // Cell centres, row 0 at the top (as the heatmap draws it).
        var grid = new double[rows * cols * 2];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                grid[2 * (r * cols + c)] = xMin + (c + 0.5) * (xMax - xMin) / cols;
                grid[2 * (r * cols + c) + 1] = yMax - (r + 0.5) * (yMax - yMin) / rows;
            }
        }
        var tape = new Tape();
        double[] scores;
        using (tape.NoGrad())
        {
            scores = mlp.Forward(tape.Constant(grid, rows * cols, 2)).Value;
        }
        var regions = new double[rows, cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) regions[r, c] = scores[r * cols + c] > 0 ? 1 : 0;
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(regions);
        heatmap.Extent = new CoordinateRect(xMin, xMax, yMin, yMax);
        heatmap.Colormap = new ScottPlot.Colormaps.Custom([Color.FromHex("#F4B183"), Color.FromHex("#9DC3E6")]);
        AddPoints(plot, x, y, label: -1, Color.FromHex("#C55A11"), "y = −1 (outer moon)");
        AddPoints(plot, x, y, label: +1, Color.FromHex("#2E75B6"), "y = +1 (inner moon)");
        plot.Title("micrograd's moons: MLP 2-16-16-1 decision boundary");
        plot.XLabel("x₁");
        plot.YLabel("x₂");
        plot.Axes.SetLimits(xMin, xMax, yMin, yMax);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 600, 450);
    }

    private static void AddPoints(Plot plot, double[] x, double[] y, double label, Color color, string legend)
    {
        int[] rows = [.. Enumerable.Range(0, y.Length).Where(i => y[i] == label)];
        var scatter = plot.Add.ScatterPoints(rows.Select(i => x[2 * i]).ToArray(), rows.Select(i => x[2 * i + 1]).ToArray(), color);
        scatter.MarkerSize = 7;
        scatter.LegendText = legend;
    }
}
