package exportapp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Chrome prints HTML to PDF with a headless Chromium from the distribution, which shapes Arabic
// and lays out right-to-left text with HarfBuzz as a browser does (Go's PDF libraries do
// neither). One browser per process, started on first use and restarted if it dies; each job
// gets its own page (tab), closed after it.
type Chrome struct {
	path    string
	timeout time.Duration

	mu      sync.Mutex
	browser context.Context
	stop    func()
	dataDir string
}

// NewChrome returns a printer that runs the browser at path (found on PATH when empty).
func NewChrome(path string, timeout time.Duration) *Chrome {
	return &Chrome{path: path, timeout: timeout}
}

// flags are the headless browser's: no sandbox (it runs as the service's unprivileged user in
// a container without user namespaces), and nothing that phones home.
func (c *Chrome) flags(dir string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
	}
	if c.path != "" {
		opts = append(opts, chromedp.ExecPath(c.path))
	}
	return opts
}

// start launches the browser when none runs (or it died); c.mu is held.
func (c *Chrome) start() (context.Context, error) {
	if c.browser != nil && c.browser.Err() == nil {
		return c.browser, nil
	}
	c.closeLocked()
	dir, err := os.MkdirTemp("", "p2p-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium: user data dir: %w", err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), c.flags(dir)...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(browser); err != nil {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("chromium: starting: %w", err)
	}
	c.browser, c.dataDir = browser, dir
	c.stop = func() { cancelBrowser(); cancelAlloc() }
	return browser, nil
}

// PrintPDF prints html as an A4 PDF, waiting for its fonts.
func (c *Chrome) PrintPDF(ctx context.Context, html string) ([]byte, error) {
	c.mu.Lock()
	browser, err := c.start()
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	tab, cancel := context.WithTimeout(tab, c.timeout)
	defer cancel()
	// The job's own context ends the print too (the worker stopping, the export's timeout).
	stopAfter := context.AfterFunc(ctx, cancel)
	defer stopAfter()
	err = chromedp.Do(tab,
		chromedp.Navigate("about:blank"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
			if err != nil {
				return err
			}
			_, err = cdp.Call(ctx, t, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: html})
			return err
		}),
	)
	var pdf []byte
	if err == nil {
		// Fonts load after the content is set; printing before they are ready falls back to
		// boxes for Arabic.
		_, err = chromedp.Run(tab, chromedp.Evaluate[bool](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise))
	}
	if err == nil {
		pdf, err = chromedp.Run(tab, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	}
	if err != nil {
		if errors.Is(tab.Err(), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("chromium: printing: %w", context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("chromium: printing: %w", err)
	}
	return pdf, nil
}

// Close stops the browser and removes its profile.
func (c *Chrome) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *Chrome) closeLocked() {
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	if c.dataDir != "" {
		_ = os.RemoveAll(c.dataDir)
		c.dataDir = ""
	}
	c.browser = nil
}
