//! A table as the pages and the CSV export show it: filtered on the server,
//! then cut into pages.

/// Rows shown on one page at most.
pub const PAGE_ROWS_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Per row, where its cell in [`Table::link_column`] leads (a drill-down), if anywhere.
    pub links: Vec<Option<String>>,
    pub link_column: usize,
}

/// One page of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePage {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub links: Vec<Option<String>>,
    pub link_column: usize,
    /// 1-based.
    pub page: usize,
    pub n_pages: usize,
    /// Rows after the filter, on every page.
    pub n_rows: usize,
}

impl Table {
    pub fn new(headers: Vec<&'static str>, rows: Vec<Vec<String>>) -> Table {
        debug_assert!(rows.iter().all(|row| row.len() == headers.len()), "every row has one cell per header");
        let links = vec![None; rows.len()];
        Table { headers, rows, links, link_column: 0 }
    }

    /// The same table, the cells of `column` leading to `links` (one per row).
    pub fn linked(self, column: usize, links: Vec<Option<String>>) -> Table {
        debug_assert_eq!(links.len(), self.rows.len(), "one link per row");
        Table { link_column: column, links, ..self }
    }

    /// The rows of which some cell contains `needle`, ignoring case; every row for an empty needle.
    pub fn filtered(self, needle: &str) -> Table {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return self;
        }
        let (rows, links) = self.rows.into_iter().zip(self.links).filter(|(row, _)| row.iter().any(|cell| cell.to_lowercase().contains(&needle))).unzip();
        Table { headers: self.headers, rows, links, link_column: self.link_column }
    }

    /// Page `page` (1-based; past the last page: the last) of `page_rows` rows.
    pub fn page(self, page: usize, page_rows: usize) -> TablePage {
        let page_rows = page_rows.max(1);
        let n_rows = self.rows.len();
        let n_pages = n_rows.div_ceil(page_rows).max(1);
        let page = page.clamp(1, n_pages);
        let (rows, links) = self.rows.into_iter().zip(self.links).skip((page - 1) * page_rows).take(page_rows).unzip();
        TablePage { headers: self.headers, rows, links, link_column: self.link_column, page, n_pages, n_rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n_rows: usize) -> Table {
        Table::new(vec!["n", "name"], (0..n_rows).map(|n| vec![n.to_string(), if n % 2 == 0 { "Even".into() } else { "odd".into() }]).collect())
    }

    #[test]
    fn a_table_is_cut_into_pages_and_a_page_past_the_end_is_the_last() {
        let page = table(120).page(2, 50);
        assert_eq!((page.page, page.n_pages, page.n_rows, page.rows.len()), (2, 3, 120, 50));
        assert_eq!(page.rows[0][0], "50");
        let last = table(120).page(9, 50);
        assert_eq!((last.page, last.rows.len()), (3, 20));
        let empty = table(0).page(0, 50);
        assert_eq!((empty.page, empty.n_pages, empty.n_rows), (1, 1, 0));
    }

    #[test]
    fn the_filter_keeps_rows_with_a_matching_cell_ignoring_case() {
        let filtered = table(10).filtered(" EVEN ");
        assert_eq!(filtered.rows.len(), 5);
        assert!(filtered.rows.iter().all(|row| row[1] == "Even"));
        assert_eq!(table(10).filtered("").rows.len(), 10);
        assert_eq!(table(10).filtered("nothing").rows.len(), 0);
    }

    #[test]
    fn links_stay_with_their_rows_through_the_filter_and_the_pages() {
        let links = (0..120).map(|n| Some(format!("/ui/x/{n}"))).collect();
        let page = table(120).linked(0, links).filtered("odd").page(2, 50);
        assert_eq!(page.rows[0][0], "101");
        assert_eq!(page.links[0].as_deref(), Some("/ui/x/101"));
        assert_eq!(page.links.len(), page.rows.len());
    }
}
