// Package clidocs writes the reference of a command tree: Markdown pages (docs/cli) and man
// pages. It is its own package so that pleoauth itself never links cobra/doc and the Markdown
// and man libraries behind it (their package initialisation would run in every "pleoauth token").
package clidocs

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// WriteMarkdown writes the Markdown reference of every command and help topic into dir (one
// page each, docs/cli). cobra's tree walk leaves help topics out, so they are written one by one.
func WriteMarkdown(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return err
	}
	for _, topic := range helpTopics(root) {
		if err := doc.GenMarkdownTree(topic, dir); err != nil {
			return err
		}
	}
	return nil
}

// WriteMan writes a man page for every command and help topic into dir/man1, where man looks
// for section 1 (MANPATH=dir man pleoauth-token), each titled with its command: PLEOAUTH-TOKEN(1).
func WriteMan(root *cobra.Command, dir string) error {
	section := filepath.Join(dir, "man1")
	if err := os.MkdirAll(section, 0o755); err != nil {
		return err
	}
	// An empty Title has cobra title each page with its command path.
	header := &doc.GenManHeader{Section: "1", Source: "pleoauth", Manual: "pleoauth manual"}
	if err := doc.GenManTree(root, header, section); err != nil {
		return err
	}
	for _, topic := range helpTopics(root) {
		if err := doc.GenManTree(topic, header, section); err != nil {
			return err
		}
	}
	return nil
}

func helpTopics(root *cobra.Command) []*cobra.Command {
	var topics []*cobra.Command
	for _, c := range root.Commands() {
		if c.IsAdditionalHelpTopicCommand() {
			topics = append(topics, c)
		}
	}
	return topics
}
