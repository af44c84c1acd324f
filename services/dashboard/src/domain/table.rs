//! A table as the pages and the CSV export show it: filtered on the server,
//! then cut into pages.

/// Rows shown on one page at most.
pub const PAGE_ROWS_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// One page of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePage {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// 1-based.
    pub page: usize,
    pub n_pages: usize,
    /// Rows after the filter, on every page.
    pub n_rows: usize,
}

impl Table {
    pub fn new(headers: Vec<&'static str>, rows: Vec<Vec<String>>) -> Table {
        debug_assert!(rows.iter().all(|row| row.len() == headers.len()), "every row has one cell per header");
        Table { headers, rows }
    }

    /// The rows of which some cell contains `needle`, ignoring case; every row for an empty needle.
    pub fn filtered(self, needle: &str) -> Table {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return self;
        }
        let rows = self.rows.into_iter().filter(|row| row.iter().any(|cell| cell.to_lowercase().contains(&needle))).collect();
        Table { headers: self.headers, rows }
    }

    /// Page `page` (1-based; past the last page: the last) of `page_rows` rows.
    pub fn page(self, page: usize, page_rows: usize) -> TablePage {
        let page_rows = page_rows.max(1);
        let n_rows = self.rows.len();
        let n_pages = n_rows.div_ceil(page_rows).max(1);
        let page = page.clamp(1, n_pages);
        let rows = self.rows.into_iter().skip((page - 1) * page_rows).take(page_rows).collect();
        TablePage { headers: self.headers, rows, page, n_pages, n_rows }
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
}
