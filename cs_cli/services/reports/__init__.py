"""Files to share: the management report of the book (`cs report book`),
built from the analytics of services/metrics and drawn as inline SVG."""
