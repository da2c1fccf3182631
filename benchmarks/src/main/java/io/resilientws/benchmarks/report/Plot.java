package io.resilientws.benchmarks.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * A small line chart drawn with java.awt (headless) into a PNG: no plotting dependency. Series of
 * (x, y) points, linear or log axes, optional horizontal/vertical reference lines, a legend.
 */
public final class Plot {

	private static final Color[] PALETTE = { new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
			new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b) };

	private final String title;

	private final String xLabel;

	private final String yLabel;

	private final List<Series> series = new ArrayList<>();

	private final List<double[]> hLines = new ArrayList<>();

	private final List<String> hLabels = new ArrayList<>();

	private final List<Double> vLines = new ArrayList<>();

	private final List<String> vLabels = new ArrayList<>();

	private boolean logX;

	private boolean logY;

	private boolean steps;

	private Double yMin;

	public Plot(String title, String xLabel, String yLabel) {
		this.title = title;
		this.xLabel = xLabel;
		this.yLabel = yLabel;
	}

	public Plot logX() {
		this.logX = true;
		return this;
	}

	public Plot logY() {
		this.logY = true;
		return this;
	}

	/** Draws each series as a step line (for histograms and per-bucket rates). */
	public Plot steps() {
		this.steps = true;
		return this;
	}

	public Plot yFromZero() {
		this.yMin = 0.0;
		return this;
	}

	public Plot series(String name, List<double[]> points) {
		this.series.add(new Series(name, points));
		return this;
	}

	public Plot horizontal(double y, String label) {
		this.hLines.add(new double[] { y });
		this.hLabels.add(label);
		return this;
	}

	public Plot vertical(double x, String label) {
		this.vLines.add(x);
		this.vLabels.add(label);
		return this;
	}

	public void write(Path file) {
		int width = 960;
		int height = 560;
		int left = 90;
		int right = 30;
		int top = 50;
		int bottom = 70;
		BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
		Graphics2D g = image.createGraphics();
		g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
		g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
		g.setColor(Color.WHITE);
		g.fillRect(0, 0, width, height);

		double x0 = Double.MAX_VALUE;
		double x1 = -Double.MAX_VALUE;
		double y0 = Double.MAX_VALUE;
		double y1 = -Double.MAX_VALUE;
		for (Series s : this.series) {
			for (double[] p : s.points) {
				if ((this.logX && p[0] <= 0) || (this.logY && p[1] <= 0)) {
					continue;
				}
				x0 = Math.min(x0, p[0]);
				x1 = Math.max(x1, p[0]);
				y0 = Math.min(y0, p[1]);
				y1 = Math.max(y1, p[1]);
			}
		}
		for (double[] h : this.hLines) {
			y0 = Math.min(y0, h[0]);
			y1 = Math.max(y1, h[0]);
		}
		for (double v : this.vLines) {
			x0 = Math.min(x0, v);
			x1 = Math.max(x1, v);
		}
		if (this.yMin != null && !this.logY) {
			y0 = this.yMin;
		}
		if (x0 == x1) {
			x1 = x0 + 1;
		}
		if (y0 == y1) {
			y1 = y0 + 1;
		}
		if (!this.logY) {
			y1 = y1 + (y1 - y0) * 0.05;
		}
		Axis xAxis = new Axis(x0, x1, this.logX, left, width - right);
		Axis yAxis = new Axis(y0, y1, this.logY, height - bottom, top);

		g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
		g.setColor(Color.BLACK);
		g.drawString(this.title, left, 30);
		g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
		FontMetrics fm = g.getFontMetrics();

		// grid and ticks
		for (double t : xAxis.ticks()) {
			int px = xAxis.map(t);
			g.setColor(new Color(0xe6e6e6));
			g.drawLine(px, top, px, height - bottom);
			g.setColor(Color.DARK_GRAY);
			String label = format(t);
			g.drawString(label, px - fm.stringWidth(label) / 2, height - bottom + 18);
		}
		for (double t : yAxis.ticks()) {
			int py = yAxis.map(t);
			g.setColor(new Color(0xe6e6e6));
			g.drawLine(left, py, width - right, py);
			g.setColor(Color.DARK_GRAY);
			String label = format(t);
			g.drawString(label, left - 8 - fm.stringWidth(label), py + 4);
		}
		g.setColor(Color.BLACK);
		g.drawRect(left, top, width - left - right, height - top - bottom);
		g.drawString(this.xLabel, left + (width - left - right) / 2 - fm.stringWidth(this.xLabel) / 2, height - 30);
		AffineTransform saved = g.getTransform();
		g.rotate(-Math.PI / 2);
		g.drawString(this.yLabel, -(top + (height - top - bottom) / 2) - fm.stringWidth(this.yLabel) / 2, 25);
		g.setTransform(saved);

		// reference lines
		g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] { 6, 4 }, 0));
		for (int i = 0; i < this.hLines.size(); i++) {
			int py = yAxis.map(this.hLines.get(i)[0]);
			g.setColor(Color.GRAY);
			g.drawLine(left, py, width - right, py);
			g.drawString(this.hLabels.get(i), width - right - fm.stringWidth(this.hLabels.get(i)) - 4, py - 4);
		}
		for (int i = 0; i < this.vLines.size(); i++) {
			int px = xAxis.map(this.vLines.get(i));
			g.setColor(Color.GRAY);
			g.drawLine(px, top, px, height - bottom);
			g.drawString(this.vLabels.get(i), px + 4, top + 14 + 14 * i);
		}

		// series
		g.setStroke(new BasicStroke(2f));
		for (int i = 0; i < this.series.size(); i++) {
			Series s = this.series.get(i);
			g.setColor(PALETTE[i % PALETTE.length]);
			int prevX = -1;
			int prevY = -1;
			for (double[] p : s.points) {
				if ((this.logX && p[0] <= 0) || (this.logY && p[1] <= 0)) {
					continue;
				}
				int px = xAxis.map(p[0]);
				int py = yAxis.map(p[1]);
				if (prevX >= 0) {
					if (this.steps) {
						g.drawLine(prevX, prevY, px, prevY);
						g.drawLine(px, prevY, px, py);
					}
					else {
						g.drawLine(prevX, prevY, px, py);
					}
				}
				if (!this.steps && s.points.size() <= 40) {
					g.fillOval(px - 3, py - 3, 7, 7);
				}
				prevX = px;
				prevY = py;
			}
			// legend
			int ly = top + 18 + i * 18;
			g.fillRect(left + 12, ly - 9, 18, 4);
			g.setColor(Color.BLACK);
			g.drawString(s.name, left + 36, ly - 3);
		}
		g.dispose();
		try {
			ImageIO.write(image, "png", file.toFile());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static String format(double v) {
		if (v == Math.rint(v) && Math.abs(v) < 1e9) {
			return String.format(Locale.ROOT, "%,d", (long) v);
		}
		if (Math.abs(v) >= 10) {
			return String.format(Locale.ROOT, "%.0f", v);
		}
		if (Math.abs(v) >= 1) {
			return String.format(Locale.ROOT, "%.1f", v);
		}
		return String.format(Locale.ROOT, "%.2g", v);
	}

	private record Series(String name, List<double[]> points) {
	}

	private record Axis(double min, double max, boolean log, int from, int to) {

		int map(double v) {
			double f = this.log ? (Math.log10(v) - Math.log10(this.min)) / (Math.log10(this.max) - Math.log10(this.min))
					: (v - this.min) / (this.max - this.min);
			return (int) Math.round(this.from + f * (this.to - this.from));
		}

		List<Double> ticks() {
			List<Double> ticks = new ArrayList<>();
			if (this.log) {
				for (double d = Math.pow(10, Math.floor(Math.log10(this.min))); d <= this.max * 1.0001; d *= 10) {
					for (double m : new double[] { 1, 2, 5 }) {
						double t = d * m;
						if (t >= this.min * 0.9999 && t <= this.max * 1.0001) {
							ticks.add(t);
						}
					}
				}
				return ticks;
			}
			double range = this.max - this.min;
			double step = Math.pow(10, Math.floor(Math.log10(range / 5)));
			if (range / step > 10) {
				step *= (range / step > 20) ? 5 : 2;
			}
			for (double t = Math.ceil(this.min / step) * step; t <= this.max + step * 1e-9; t += step) {
				ticks.add(t);
			}
			return ticks;
		}

	}

}
